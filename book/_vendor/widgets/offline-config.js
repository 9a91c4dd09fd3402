/* Demystifying Deep Learning: let the vendored widget bundle find its icon fonts offline.
 * embed-amd.js (@jupyter-widgets/html-manager) loads Font Awesome from the folder of its AMD
 * module URL, which RequireJS would otherwise put next to the page. Point both modules that
 * carry the fonts at this folder's fonts/ (see book/_vendor/README.md). Load after require.js,
 * before embed-amd.js. */
(function () {
  var here = document.currentScript.src.replace(/[?#].*$/, "").replace(/[^/]*$/, "");
  window.require.config({
    paths: {
      "@jupyter-widgets/html-manager": here + "fonts/html-manager",
      "@jupyter-widgets/html-manager/dist/libembed-amd": here + "fonts/libembed-amd"
    }
  });
})();
