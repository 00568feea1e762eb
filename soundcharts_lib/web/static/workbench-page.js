// The dashboard page's helpers, Voila's inline scripts moved here so the page needs no inline script (its
// Content-Security-Policy allows none): the loading text follows the cells as they arrive, and the cells are
// shown once the page has arrived and voila.js has loaded the theme (whichever comes last calls voila_finish);
// a snapshot page reloads when the server says it changed.
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

  // A snapshot page whose data changed before its visitor needed Python: the server closes its kernel socket with
  // this code (web/replay.py, RELOAD) and the page loads again, fresh.
  const RELOAD = 4001;
  const Socket = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    const socket = new Socket(url, protocols);
    socket.addEventListener("close", function (event) {
      if (event.code === RELOAD) {
        window.location.reload();
      }
    });
    return socket;
  };
  window.WebSocket.prototype = Socket.prototype;
  ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach(function (name) {
    window.WebSocket[name] = Socket[name];
  });

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
