// Small progressive enhancements; every page works without them.
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", () => {
  // The language selector submits itself; its button stays for no-script use only.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
    const button = select.form.querySelector("[data-autosubmit-button]");
    if (button) button.hidden = true;
  }
  // Copy fields select their whole value on focus, ready for Ctrl+C.
  for (const field of document.querySelectorAll("input.copy-field")) {
    field.addEventListener("focus", () => field.select());
  }
  // A copy button copies the value of the field it names and says so.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const field = document.getElementById(button.dataset.copy);
    const status = document.getElementById(button.dataset.copyStatus);
    button.hidden = false;
    button.addEventListener("click", async () => {
      field.select();
      let copied = false;
      try {
        await navigator.clipboard.writeText(field.value);
        copied = true;
      } catch {
        copied = document.execCommand && document.execCommand("copy");
      }
      if (status) status.textContent = copied ? button.dataset.copied : button.dataset.copyFailed;
    });
  }
  // On a phone, tables reflow into one labelled block per row (CSS: table.reflow). Each cell is
  // labelled with its column's header here, so every page's tables benefit; a table whose
  // meaning is its grid (a heat map, a matrix with row groups) opts out with class "matrix".
  for (const table of document.querySelectorAll("table:not(.matrix):not(.reflow)")) {
    const headers = [...table.querySelectorAll("thead tr:last-child th")].flatMap((th) =>
      Array(th.colSpan || 1).fill(th.textContent.trim()),
    );
    if (!headers.length || table.querySelector("tbody [rowspan]")) continue;
    for (const row of table.querySelectorAll("tbody tr")) {
      let column = 0;
      for (const cell of row.children) {
        if (!cell.hasAttribute("data-label") && headers[column]) {
          cell.setAttribute("data-label", headers[column]);
        }
        column += cell.colSpan || 1;
      }
    }
    table.classList.add("reflow");
  }
  // A table too wide for the screen scrolls inside its box: make that box reachable and named
  // for keyboard and screen-reader users (WCAG 2.1.1).
  for (const box of document.querySelectorAll(".table-wrap, .overflow-auto")) {
    if (box.scrollWidth <= box.clientWidth || box.hasAttribute("tabindex")) continue;
    const heading = box.closest("section")?.querySelector("h2, h3");
    const caption = box.querySelector("caption");
    box.tabIndex = 0;
    box.setAttribute("role", "region");
    if (!box.hasAttribute("aria-label")) {
      box.setAttribute("aria-label", (heading || caption)?.textContent.trim() || document.title);
    }
  }
  // Phones: the main menu folds behind one button (the whole menu shows without script).
  const toggle = document.querySelector(".menu-toggle");
  const menu = document.getElementById("site-menu");
  if (toggle && menu) {
    toggle.addEventListener("click", () => {
      const open = menu.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
});
