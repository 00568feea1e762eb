// The light snapshot page (web/light_page.py): draws the page's widgets from their embedded states with Jupyter's
// standalone widget manager, no kernel. Changes stay in the browser until the visitor uses a control with Python
// behind it (a date picker, a toggle, a button: settings.live); then the page posts its changes to the server, which
// keeps them for a kernel running the same page, and loads again, live.
(function () {
  "use strict";
  const settings = JSON.parse(document.getElementById("workbench-light").textContent);
  const live = new Set(settings.live);
  const changes = new Map();  // model id -> its changed traits, serialised, in the order first changed
  let leaving = false;

  window.__jupyter_widgets_assets_path__ = settings.static + "/";  // the manager's fonts
  window.themeLoaded = true;  // the theme's CSS is in the page (workbench-page.js waits for it)
  // Where each module is: bqplot's own files, and the manager's modules in the file the page loaded (a module's
  // fonts are found beside its file, so its id must map to it).
  const paths = {bqplot: settings.static + "/bqplot/index", bqscales: settings.static + "/bqscales/index"};
  ["base", "base7", "controls", "controls7", "html-manager"].forEach(function (name) {
    paths["@jupyter-widgets/" + name] = settings.static + "/libembed-amd";
  });
  window.require.config({paths: paths});

  function goLive(last) {
    if (leaving) {
      return;
    }
    leaving = true;
    document.body.style.cursor = "progress";
    const sent = [];
    changes.forEach(function (state, modelId) {
      if (Object.keys(state).length) {
        sent.push({model_id: modelId, method: "update", state: state});
      }
    });
    if (last) {
      sent.push(last);
    }
    window.fetch(settings.goLive, {
      method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({page: window.location.pathname + window.location.search, stamp: settings.stamp,
                            changes: sent}),
    }).catch(function () { return null; }).then(function () {
      window.location.reload();  // live with the changes (the session's cookie), or fresh if the data changed
    });
  }

  // Changes carried to the live page besides the one that takes it there: the controls' (a chosen tab, an open
  // accordion); a figure's hover and zoom stay behind (their binary traits would not survive the trip as JSON).
  const CARRIED = "@jupyter-widgets/controls";

  function follow(model) {
    model.on("change", function () {
      if (leaving || (!live.has(model.model_id) && model.get("_model_module") !== CARRIED)) {
        return;
      }
      const serialised = JSON.parse(JSON.stringify(model.serialize(model.changedAttributes() || {})));
      const id = model.model_id;
      const state = Object.assign(changes.get(id) || {}, serialised);
      if (live.has(id)) {
        changes.delete(id);
        goLive({model_id: id, method: "update", state: state});
      } else {
        changes.set(id, state);
      }
    });
    if (live.has(model.model_id)) {  // a click, a custom message: Python handles it
      model.send = function (content) {
        goLive({model_id: model.model_id, method: "custom", content: content});
      };
    }
  }

  function loader(name) {  // the widget modules this server has (never a CDN); not libembed's, which needs eval
    return new Promise(function (resolve, reject) {
      window.require([name], resolve, function (error) {
        fallBack(error);
        reject(error);
      });
    });
  }

  window.require(["@jupyter-widgets/html-manager"],
    function (html) {
      const manager = new html.HTMLManager({loader: loader});
      const state = JSON.parse(
        document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]').textContent);
      manager.set_state(state).then(function (models) {
        window.display_cells();  // shown first: bqplot sizes its figures from their container
        const tags = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
        return Promise.all(Array.prototype.map.call(tags, function (tag) {
          const model = models.find(function (m) { return m.model_id === JSON.parse(tag.textContent).model_id; });
          const area = document.createElement("div");
          area.className = "widget-subarea";
          tag.parentElement.insertBefore(area, tag);
          return manager.create_view(model).then(function (view) { return manager.display_view(view, area); });
        })).then(function () {
          if (document.querySelector(".jupyter-widgets-error-widget")) {  // the manager's stand-in for a widget
            throw new Error("a widget's module did not load");
          }
          window.requestAnimationFrame(function () {  // what drawing set is not the visitor's
            models.forEach(follow);
            document.body.setAttribute("data-light-ready", "1");
          });
        });
      }).catch(fallBack);
    }, fallBack);

  // A page the manager cannot draw (a module that did not load, a widget drawn as the manager's error stand-in):
  // once, the page again with Voila's front end.
  let fellBack = false;

  function fallBack(error) {
    if (fellBack) {
      return;
    }
    fellBack = true;
    console.error("the page's widgets could not be drawn here; loading them with Voila's front end", error);
    document.cookie = settings.frontCookie + "=voila; path=" + window.location.pathname +
      "; max-age=60; samesite=strict";
    window.location.reload();
  }
})();
