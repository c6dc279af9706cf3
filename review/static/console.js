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
        if (canDecide) { event.preventDefault(); document.getElementById("plate-input").focus(); }
        break;
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
