// Typeset the formulas that pymdownx.arithmatex marks (its "generic" mode) with the KaTeX
// copy in docs/assets/katex/, so that math renders with no network access, even from file://.
function typesetMath(root) {
  for (const element of root.querySelectorAll(".arithmatex")) {
    // arithmatex keeps the delimiters in the text: \( ... \) inline, \[ ... \] on its own line
    const source = element.textContent.trim();
    katex.render(source.slice(2, -2), element, {
      displayMode: element.tagName === "DIV",
      throwOnError: false,
    });
  }
}

// Material for MkDocs announces every page it shows through document$ (also after instant
// navigation); without it, typeset once the page has loaded.
if (typeof document$ !== "undefined") {
  document$.subscribe(() => typesetMath(document));
} else {
  document.addEventListener("DOMContentLoaded", () => typesetMath(document));
}
