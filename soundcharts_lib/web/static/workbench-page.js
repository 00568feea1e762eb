// The dashboard page's helpers, Voila's inline scripts moved here so the page needs no inline script (its
// Content-Security-Policy allows none): the loading text follows the cells as they arrive, and the cells are
// shown once the page has arrived and voila.js has loaded the theme (whichever comes last calls voila_finish).
(function () {
  "use strict";
  window.voila_heartbeat = function () {};
  window.display_cells = function () {
    if (!window.themeLoaded) {
      window.cellLoaded = true;
      return;
    }
    const loading = document.getElementById("loading");
    if (loading) {
      loading.remove();
    }
    const cells = document.getElementById("rendered_cells");
    if (cells) {
      cells.style.display = "";
    }
  };
  window.voila_finish = window.display_cells;

  const progress = new MutationObserver(function () {
    const done = document.querySelectorAll("#rendered_cells [cell-index]");
    const text = document.getElementById("loading_text");
    if (text && done.length) {
      const last = done[done.length - 1];
      const now = "Executing " + last.getAttribute("cell-index") + " of " + last.dataset.cellCount;
      if (text.textContent !== now) {  // setting it is a mutation too: only when it changes
        text.textContent = now;
      }
    }
  });
  progress.observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener("DOMContentLoaded", function () {
    progress.disconnect();
    window.voila_finish();
  });
})();
