// govqa chat page behaviour, run once by ui.web.app (an HTML component's js_on_load). Plain DOM, no
// libraries: clicks are handled on the document, so answers added to the chat later need no wiring.
//  - a [n] marker (a.gq-ref-link, an in-page anchor) opens its citation card and scrolls it into view;
//  - a copy button (button.gq-copy) puts its answer's text on the clipboard.
if (!window.__govqaPage) {
  window.__govqaPage = true;
  const flash = (el, cls) => {
    el.classList.add(cls);
    setTimeout(() => el.classList.remove(cls), 1500);
  };
  const openCard = (link) => {
    const id = (link.getAttribute("href") || "").slice(1);
    const card = id ? document.getElementById(id) : null;
    if (!card) return false;
    card.open = true;
    card.scrollIntoView({ block: "center" });
    flash(card, "gq-flash");
    return true;
  };
  const copyAnswer = (button) => {
    const answer = button.closest(".gq-answer");
    const text = answer && answer.querySelector(".gq-text") ? answer.querySelector(".gq-text").innerText : "";
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    const done = (words) => {
      button.textContent = words;
      setTimeout(() => { button.textContent = label; }, 1500);
    };
    if (!navigator.clipboard) return done("✖ 无法复制 · cannot copy");
    navigator.clipboard.writeText(text).then(
      () => done("✔ 已复制 · copied"),
      () => done("✖ 无法复制 · cannot copy"),
    );
  };
  document.addEventListener(
    "click",
    (event) => {
      const target = event.target instanceof Element ? event.target : null;
      const link = target && target.closest("a.gq-ref-link");
      if (link && openCard(link)) {
        event.preventDefault();
        return;
      }
      const button = target && target.closest("button.gq-copy");
      if (button) {
        event.preventDefault();
        copyAnswer(button);
      }
    },
    true,
  );
}
