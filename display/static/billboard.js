// Plays a billboard's playlist in the kiosk page, as display/player.py plays a pushed screen:
// newest first, dwell_s each; a citation new to the playlist goes on at once; the item on
// screen leaves at once when it leaves the playlist; an empty playlist shows the idle frame.
// The playlist is long-polled: the server answers when it changes or when the next item is due.
// Each frame is loaded off-screen and swapped in only once decoded, so there is never a blank
// frame between two items.
(function () {
  "use strict";
  var LONG_POLL_MS = 20000; // the longest wait asked for; the server holds at most display.long_poll_s
  var RETRY_MS = 2000;
  var playlistUrl = document.body.dataset.playlist;
  var dwellMs = parseFloat(document.body.dataset.dwell) * 1000;
  var items = []; // citation ids of the last playlist read, newest first
  var version = ""; // the server's version of that playlist
  var frames = {}; // citation id -> frame URL
  var idleUrl = null;
  var first = frame();
  var shown = first.dataset.citation || null; // null: the idle frame
  var since = Date.now();
  var failed = false; // the last frame did not load: try again at the next step
  var errors = 0; // frames failed in a row: after the first, retry only every RETRY_MS
  var request = 0; // the latest show(); an older one that loads late is dropped
  var timer = null;

  function frame() {
    return document.getElementById("frame");
  }

  function loaded(img) {
    return img.complete && img.naturalWidth > 0;
  }

  function sameList(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  function following() {
    var at = items.indexOf(shown);
    return at < 0 ? items[0] : items[(at + 1) % items.length];
  }

  function show(citation) {
    var ticket = ++request;
    var url = citation === null ? idleUrl : frames[citation];
    shown = citation;
    since = Date.now();
    failed = false;
    var current = frame();
    var img = new Image();
    img.id = "frame";
    img.alt = "";
    img.width = current.width;
    img.height = current.height;
    img.dataset.citation = citation === null ? "" : citation;
    img.onload = function () {
      img.decode().catch(function () {}).then(function () {
        if (ticket !== request) return;
        frame().replaceWith(img);
        since = Date.now();
        if (citation !== null) errors = 0;
      });
    };
    img.onerror = function () {
      // Taken down between the playlist read and the frame request (the server answers 404):
      // off with the old frame, which may be that very case, and read the playlist again.
      if (ticket !== request) return;
      errors += 1;
      if (citation !== null && idleUrl) show(null);
      failed = true;
      schedule(errors > 1 ? RETRY_MS : 0);
    };
    img.src = url;
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(step, ms);
  }

  function update(data) {
    var next = data.items.map(function (item) {
      return item.citation_id;
    });
    frames = {};
    data.items.forEach(function (item) {
      frames[item.citation_id] = item.frame;
    });
    idleUrl = data.idle;
    version = data.version;
    dwellMs = data.dwell_s * 1000;
    var now = Date.now();
    if (!sameList(next, items)) {
      var arrived = next.filter(function (c) {
        return items.indexOf(c) < 0;
      });
      items = next;
      if (arrived.length) {
        // The page opens on the newest item already: keep it rather than load it twice.
        if (!(first && arrived[0] === shown && loaded(first))) show(arrived[0]);
      } else if (shown === null ? items.length : items.indexOf(shown) < 0) {
        show(items.length ? items[0] : null);
      }
    } else if (failed) {
      show(shown !== null && items.indexOf(shown) >= 0 ? shown : items[0] || null);
    } else if (items.length && now - since >= dwellMs) {
      show(following());
    }
    first = null;
  }

  function step() {
    var due = items.length ? Math.max(0, since + dwellMs - Date.now()) : LONG_POLL_MS;
    var wait = version && !failed ? Math.min(due, LONG_POLL_MS) : 0;
    var url = playlistUrl + "?version=" + version + "&wait_s=" + wait / 1000;
    fetch(url, { cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("playlist: HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        update(data);
        schedule(failed ? RETRY_MS : 0);
      })
      .catch(function () {
        schedule(RETRY_MS); // server unreachable: keep the frame on screen, try again
      });
  }

  step();
})();
