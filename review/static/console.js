// Keyboard shortcuts for a fast review pace. Nothing here decides anything by itself: each key
// submits the same form a click would, with the page's CSRF token.
(function () {
  "use strict";
  let rejecting = false;

  function typing(event) {
    const el = event.target;
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT");
  }

  function submit(id) {
    const form = document.getElementById(id);
    if (form) form.requestSubmit();
  }

  // The confirmation rule: how far the clip has been played without skipping into the
  // violation, from the played stretch that began at least 1 s before it (not a seek).
  const clip = document.getElementById("clip");
  const watched = document.getElementById("watched-s");
  const watchTo = clip && clip.dataset.watchTo ? Number(clip.dataset.watchTo) : null;

  function playedThrough() {
    let reached = 0;
    for (let i = 0; clip && i < clip.played.length; i++) {
      if (clip.played.start(i) <= Math.max(0, watchTo - 1)) {
        reached = Math.max(reached, clip.played.end(i));
      }
    }
    return reached;
  }

  function mayApprove() {
    return watchTo === null || Number(watched.value) + 0.05 >= watchTo;
  }

  if (clip && watched && watchTo !== null) {
    clip.addEventListener("timeupdate", function () {
      watched.value = playedThrough().toFixed(2);
      const hint = document.getElementById("watch-hint");
      if (hint && mayApprove()) {
        hint.textContent = "watched through the violation";
        hint.className = "met";
      }
    });
    const form = document.getElementById("approve-form");
    if (form) {
      form.addEventListener("submit", function (event) {
        if (!mayApprove()) {
          event.preventDefault();
          const hint = document.getElementById("watch-hint");
          if (hint) hint.className = "unmet";
          clip.play();
        }
      });
    }
  }

  // Clip tools: speed (kept between cases), frame steps, play/pause; and the lines overlay.
  const rate = document.getElementById("rate");
  const RATES = [0.25, 0.5, 1, 1.5, 2];

  function setRate(value) {
    if (!clip || !rate) return;
    clip.defaultPlaybackRate = clip.playbackRate = value;
    rate.value = String(value);
    try { localStorage.setItem("stopline.rate", String(value)); } catch (e) { /* private mode */ }
  }

  function stepRate(by) {
    const at = RATES.indexOf(clip ? clip.playbackRate : 1);
    setRate(RATES[Math.min(RATES.length - 1, Math.max(0, (at < 0 ? 2 : at) + by))]);
  }

  function step(frames) {
    if (!clip) return;
    clip.pause();
    const fps = Number(clip.dataset.fps) || 25;
    clip.currentTime = Math.max(0, Math.min(clip.duration || 0, clip.currentTime + frames / fps));
  }

  function toggle() {
    if (clip) { if (clip.paused) clip.play(); else clip.pause(); }
  }

  if (clip && rate) {
    let kept = null;
    try { kept = Number(localStorage.getItem("stopline.rate")); } catch (e) { /* private mode */ }
    if (RATES.indexOf(kept) >= 0) setRate(kept);
    rate.addEventListener("change", function () { setRate(Number(rate.value)); rate.blur(); });
    const on = function (id, fn) {
      const el = document.getElementById(id);
      if (el) el.addEventListener("click", function () { fn(); el.blur(); });
    };
    on("play-pause", toggle);
    on("step-back", function () { step(-1); });
    on("step-forward", function () { step(1); });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") {
      rejecting = false;
      if (document.activeElement) document.activeElement.blur();
      return;
    }
    if (typing(event) && !rejecting) return;
    const caseEl = document.getElementById("case");
    const canDecide = caseEl && caseEl.dataset.canDecide === "yes";
    if (rejecting && /^[1-9]$/.test(event.key)) {
      const select = document.getElementById("reject-reason");
      const option = select && select.querySelector('option[data-key="' + event.key + '"]');
      if (option) {
        event.preventDefault();
        select.value = option.value;
        rejecting = false;
        submit("reject-form");
      }
      return;
    }
    switch (event.key) {
      case "a":
        if (canDecide) { event.preventDefault(); submit("approve-form"); }
        break;
      case "r":
        if (canDecide) {
          event.preventDefault();
          rejecting = true;
          const select = document.getElementById("reject-reason");
          if (select) select.focus();
        }
        break;
      case "p":
        if (canDecide && document.getElementById("plate-input")) {
          event.preventDefault();
          document.getElementById("plate-input").focus();
        }
        break;
      case " ":
        if (clip) { event.preventDefault(); toggle(); }
        break;
      case ",":
        step(-1);
        break;
      case ".":
        step(1);
        break;
      case "[":
        stepRate(-1);
        break;
      case "]":
        stepRate(1);
        break;
      case "l":
        document.body.classList.toggle("lines-off");
        break;
      case "h": {
        const history = document.getElementById("history");
        if (history) history.open = !history.open;
        break;
      }
      case "n":
        if (caseEl && caseEl.dataset.next) window.location.assign(caseEl.dataset.next);
        break;
      case "q":
        window.location.assign("/queue");
        break;
      case "j": {
        const first = document.querySelector("#queue tbody tr[data-href]");
        if (first) window.location.assign(first.dataset.href);
        break;
      }
    }
  });
})();
