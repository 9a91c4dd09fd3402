/* Demystifying Deep Learning: stored ipywidgets in the static pages (loaded on every page; it
 * does nothing on a page without widgets).
 *
 * 1. Alt text. A notebook figure gets its alt text from the cell's metadata (mystnb.image.alt),
 *    but a figure that an ipywidgets control draws (interact → Output widget) is rendered in the
 *    browser by the widget manager from the saved widget state, as an <img> without alt. It is
 *    named here after the controls that drew it and their stored values, e.g. "Figure drawn by
 *    the interactive control (stored view) for shift x = 2, test digit = 0". Figures outside
 *    widgets are left alone: their alt text is the chapter author's job (tests/test_browser.py).
 *
 * 2. MathJax. The widget manager (@jupyter-widgets/controls 2.0) typesets every control's label
 *    with MathJax 2's API, `MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])`, whenever
 *    window.MathJax exists. This site loads MathJax 3, which has no `Hub`, so on a page with both
 *    math and widgets every label threw "Cannot read properties of undefined (reading 'Queue')".
 *    When MathJax 3 installs itself (it replaces window.MathJax; it is loaded with `defer`, after
 *    this script), a one-call bridge is added that typesets the element with MathJax 3.
 */
(function () {
  "use strict";

  // --- 2. MathJax 2's Hub.Queue, on top of MathJax 3 ---------------------------------------
  function addHub(mathjax) {
    if (!mathjax || typeof mathjax !== "object" || !mathjax.version || mathjax.Hub) return;
    mathjax.Hub = {
      Queue: function (job) {
        var element = Array.isArray(job) ? job[2] : undefined;
        var ready = mathjax.startup && mathjax.startup.promise ? mathjax.startup.promise : Promise.resolve();
        return ready.then(function () {
          if (typeof mathjax.typesetPromise === "function") {
            return mathjax.typesetPromise(element ? [element] : undefined);
          }
        }).catch(function (err) { console.warn("MathJax could not typeset a widget label", err); });
      }
    };
  }
  var current = window.MathJax;
  addHub(current);
  try {
    Object.defineProperty(window, "MathJax", {
      configurable: true, enumerable: true,
      get: function () { return current; },
      set: function (value) { current = value; addHub(value); }
    });
  } catch (err) { /* a page that froze window.MathJax: leave it */ }

  // --- 1. alt text for figures drawn by widgets --------------------------------------------
  function controlsOf(box) {
    var parts = [];
    if (!box) return parts;
    box.querySelectorAll(".jupyter-widgets").forEach(function (widget) {
      var label = widget.querySelector(":scope > .widget-label");
      var text = label ? label.textContent.trim() : "";
      if (!text) return;
      var readout = widget.querySelector(".widget-readout");
      var select = widget.querySelector("select");
      var value = readout ? readout.textContent.trim() :
                  select && select.selectedIndex >= 0 ? select.options[select.selectedIndex].text : "";
      parts.push(value ? text + " = " + value : text);
    });
    return parts;
  }
  function describe(img) {
    var box = img.closest(".widget-interact") ||
              (img.closest(".widget-output") || img).parentElement.closest(".widget-box");
    var controls = controlsOf(box);
    return "Figure drawn by the interactive control (stored view)" +
           (controls.length ? " for " + controls.join(", ") : "");
  }
  function label() {
    document.querySelectorAll(".jupyter-widgets img").forEach(function (img) {
      if (!(img.getAttribute("alt") || "").trim()) img.setAttribute("alt", describe(img));
    });
  }
  new MutationObserver(label).observe(document.documentElement, {childList: true, subtree: true});
})();
