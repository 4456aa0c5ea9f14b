// Figures on a narrow screen (book/_assets/book_site.py adds this script to every page).
// The chapters draw figures no wider than the text column of a desktop window, with text of
// 16 px at their own size. In a narrower column (a phone) the theme would shrink each figure to
// fit, its text to 9 px. Here a figure shrinks to at most FLOOR of its own size, its text to
// 12 px at least; beyond that it keeps that size in a box of its own that scrolls sideways, as
// wide tables do. The figures' image files are not changed.
(() => {
  const FLOOR = 0.75;
  const SELECTOR = "main figure img, main .cell_output img";

  function keepReadable(img) {
    if (!img.naturalWidth || img.closest(".figure-scroll") || img.src.includes("/_static/")) return;
    const box = document.createElement("div");
    box.className = "figure-scroll";
    box.tabIndex = 0; // a keyboard reader can scroll it too
    img.parentNode.insertBefore(box, img);
    box.appendChild(img);
    img.style.minWidth = `${Math.round(img.naturalWidth * FLOOR)}px`;
    // a figure cut by the column says so (book.css shows a hint above it)
    const mark = () => box.classList.toggle("is-wide", box.scrollWidth > box.clientWidth + 1);
    new ResizeObserver(mark).observe(box);
    mark();
  }

  function all() {
    document.querySelectorAll(SELECTOR).forEach((img) => {
      // a widget's figure is a data URI whose size is known only once it is decoded
      if (img.complete && img.naturalWidth) keepReadable(img);
      else img.addEventListener("load", () => keepReadable(img), { once: true });
    });
  }

  function start() {
    all();
    // a widget draws its figure later, into an output area of its own
    new MutationObserver(all).observe(document.querySelector("main") || document.body, {
      childList: true,
      subtree: true,
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
