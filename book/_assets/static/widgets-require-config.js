// Served between require.js and the widget manager (embed-amd.js): tell require.js that the manager's
// modules live in book_js/html-manager/ beside this file, so that the fonts and icons they load by a path
// relative to their module are fetched from there and not from the page's own folder.
(function () {
  var here = document.currentScript.src.replace(/[^/]*$/, "");
  var dir = here + "book_js/html-manager/";
  require.config({
    paths: {
      "@jupyter-widgets/html-manager/dist/libembed-amd": dir + "libembed-amd",
      "@jupyter-widgets/base": dir + "base",
      "@jupyter-widgets/controls": dir + "controls",
      "@jupyter-widgets/output": dir + "output",
    },
  });
})();
