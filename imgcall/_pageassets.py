"""The stylesheet and script of the gallery page (`imgcall.htmlpage`), as text.

Kept apart so that the page builder reads as Python. The script renders only the cards
near the viewport (windowed rendering): the cards' HTML, made by `imgcall.cards`, sits
in a JSON block, and the script places the visible ones absolutely in fixed rows, so a
page of 50,000 items scrolls like a page of fifty. It filters by text (every word must
appear in the card's text: id, ``custom_id``, prompt, status, format, reason) and by
kind, and opens an image in a viewer on click (arrow keys move, Escape closes). It
inserts no data as markup except those cards, which were escaped when they were made.
"""

from __future__ import annotations

PAGE_CSS = """
:root{--bg:#f6f7f9;--fg:#1d2127;--muted:#5f6670;--card:#fff;--well:#eef0f3;
--bad-well:#fbeceb;--accent:#2f6fd6;--line:rgba(128,128,128,.28);--cap:%(cap)dpx;
color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#16181c;--fg:#e6e8eb;--muted:#9aa1ab;
--card:#1f2227;--well:#262a30;--bad-well:#33221f;--accent:#6ea2ff}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}
header{position:sticky;top:0;z-index:5;background:var(--bg);border-bottom:1px solid var(--line);
padding:14px 24px 12px}
.ic-title{display:flex;align-items:baseline;gap:12px;flex-wrap:wrap}
h1{font-size:18px;margin:0;font-weight:650}
.ic-where{color:var(--muted);font-size:12.5px;overflow-wrap:anywhere}
.ic-tools{display:flex;gap:10px;align-items:center;flex-wrap:wrap;margin-top:10px}
#ic-q{flex:1 1 260px;max-width:520px;padding:8px 12px;border-radius:8px;font:inherit;
border:1px solid var(--line);background:var(--card);color:var(--fg)}
#ic-q:focus{outline:2px solid var(--accent);outline-offset:0}
.ic-kinds{display:flex;border:1px solid var(--line);border-radius:8px;overflow:hidden}
.ic-kinds button{font:inherit;font-size:13px;padding:7px 12px;border:0;background:var(--card);
color:var(--fg);cursor:pointer;border-right:1px solid var(--line)}
.ic-kinds button:last-child{border-right:0}
.ic-kinds button[aria-pressed=true]{background:var(--accent);color:#fff}
.ic-kinds button:disabled{opacity:.45;cursor:default}
#ic-count{color:var(--muted);font-size:13px;margin-left:auto}
main{padding:18px 24px 40px}
#ic-grid{position:relative;min-height:120px}
#ic-grid.ic-static{display:grid;gap:14px;grid-template-columns:repeat(auto-fill,minmax(210px,1fr))}
.ic-slot{position:absolute;top:0;left:0}
.ic-empty{color:var(--muted);padding:40px 0;text-align:center}
#ic-view{position:fixed;inset:0;z-index:10;background:rgba(10,12,15,.86);display:none;
flex-direction:column;align-items:center;justify-content:center;padding:24px;gap:12px}
#ic-view.ic-open{display:flex}
#ic-view img{max-width:100%%;max-height:calc(100vh - 240px);object-fit:contain;
background:repeating-conic-gradient(#8883 0 25%%,#0000 0 50%%) 0 0/18px 18px;border-radius:6px}
#ic-view .ic-vcap{color:#e6e8eb;max-width:900px;text-align:center;font-size:13px;
overflow-wrap:anywhere;max-height:150px;overflow:auto}
#ic-view .ic-vcap>*{white-space:normal;overflow:visible}
#ic-view .ic-prompt{display:block;-webkit-line-clamp:none;font-size:14px;opacity:.9}
#ic-view .ic-vbar{display:flex;gap:8px}
#ic-view button,#ic-view a{font:inherit;font-size:13px;color:#fff;background:rgba(255,255,255,.14);
border:0;border-radius:6px;padding:6px 12px;cursor:pointer;text-decoration:none}
footer{color:var(--muted);font-size:12px;padding:0 24px 24px}
"""

PAGE_JS = r"""
(() => {
  "use strict";
  const block = document.getElementById("ic-data");
  const data = JSON.parse(block.textContent);
  block.remove();  // its text (about 1 KB per card) now lives in `data` only
  const cards = data.cards;
  const grid = document.getElementById("ic-grid");
  const query = document.getElementById("ic-q");
  const count = document.getElementById("ic-count");
  const view = document.getElementById("ic-view");
  const viewImg = view.querySelector("img");
  const viewCap = view.querySelector(".ic-vcap");
  const viewOpen = view.querySelector("a");
  const MIN_W = 210, GAP = 14, CAP = data.caption;
  const MASKS = {all: 0, images: 1, failed: 2, c2pa: 4};
  const ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'"};
  let shown = [], texts = null, kind = "all";
  let cols = 1, cardW = MIN_W, rowH = MIN_W + CAP + GAP, current = -1;
  const live = new Map();

  const unescape = (s) => s.replace(/&(?:amp|lt|gt|quot|#x27);/g, (m) => ENTITIES[m]);
  const plain = (html) => unescape(html.replace(/<[^>]*>/g, " ")).toLowerCase();
  const hrefOf = (html) => {
    const m = /<a [^>]*href="([^"]*)"/.exec(html);
    return m ? unescape(m[1]) : null;
  };
  const fmt = (n) => n.toLocaleString("en-US");

  function select() {
    const words = query.value.toLowerCase().split(/\s+/).filter(Boolean);
    if (words.length && texts === null) texts = cards.map((c) => plain(c[1]));
    const mask = MASKS[kind];
    shown = [];
    for (let i = 0; i < cards.length; i++) {
      if (mask && !(cards[i][0] & mask)) continue;
      if (words.length && !words.every((w) => texts[i].includes(w))) continue;
      shown.push(i);
    }
    count.textContent = shown.length === cards.length
      ? `${fmt(cards.length)} item${cards.length === 1 ? "" : "s"}`
      : `showing ${fmt(shown.length)} of ${fmt(cards.length)}`;
    layout();
  }

  function clear() {
    for (const el of live.values()) el.remove();
    live.clear();
  }

  function layout() {
    clear();
    const width = grid.clientWidth;
    cols = Math.max(1, Math.floor((width + GAP) / (MIN_W + GAP)));
    cardW = (width - GAP * (cols - 1)) / cols;
    rowH = cardW + CAP + GAP;
    const rows = Math.ceil(shown.length / cols);
    grid.style.height = `${Math.max(0, rows * rowH - GAP)}px`;
    let empty = grid.querySelector(".ic-empty");
    if (!shown.length) {
      if (!empty) {
        empty = document.createElement("div");
        empty.className = "ic-empty";
        grid.append(empty);
      }
      empty.textContent =
        cards.length ? "Nothing matches the filter." : "This run found no images.";
    } else if (empty) {
      empty.remove();
    }
    render();
  }

  function render() {
    const top = grid.getBoundingClientRect().top;
    const rows = Math.ceil(shown.length / cols);
    const first = Math.max(0, Math.floor(-top / rowH) - 2);
    const last = Math.min(rows - 1, Math.floor((window.innerHeight - top) / rowH) + 2);
    const want = new Set();
    for (let r = first; r <= last; r++) {
      for (let c = 0; c < cols; c++) {
        const pos = r * cols + c;
        if (pos < shown.length) want.add(pos);
      }
    }
    for (const [pos, el] of live) {
      if (!want.has(pos)) { el.remove(); live.delete(pos); }
    }
    const batch = document.createDocumentFragment();
    for (const pos of want) {
      if (live.has(pos)) continue;
      const el = document.createElement("div");
      el.className = "ic-slot";
      el.dataset.pos = pos;
      el.innerHTML = cards[shown[pos]][1];
      el.style.width = `${cardW}px`;
      el.style.height = `${cardW + CAP}px`;
      el.style.transform =
        `translate(${(pos % cols) * (cardW + GAP)}px, ${Math.floor(pos / cols) * rowH}px)`;
      batch.append(el);
      live.set(pos, el);
    }
    grid.append(batch);
  }

  let pending = false;
  const soon = (fn) => () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; fn(); });
  };
  window.addEventListener("scroll", soon(render), {passive: true});
  window.addEventListener("resize", soon(layout));
  let typing = 0;
  query.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { window.scrollTo(0, 0); select(); }, 120);
  });
  for (const button of document.querySelectorAll("[data-kind]")) {
    button.addEventListener("click", () => {
      kind = button.dataset.kind;
      for (const b of document.querySelectorAll("[data-kind]")) {
        b.setAttribute("aria-pressed", String(b === button));
      }
      window.scrollTo(0, 0);
      select();
    });
  }

  function show(pos) {
    const html = cards[shown[pos]][1];
    const href = hrefOf(html);
    if (href === null) return;
    current = pos;
    viewImg.src = href;
    viewImg.alt = plain(html).trim().slice(0, 80);
    const box = document.createElement("div");
    box.innerHTML = html;
    viewCap.replaceChildren(...box.querySelector("figcaption").childNodes);
    viewOpen.href = href;
    viewOpen.toggleAttribute("download", /<a [^>]*href="[^"]*" download/.test(html));
    view.classList.add("ic-open");
  }
  function step(delta) {
    for (let pos = current + delta; pos >= 0 && pos < shown.length; pos += delta) {
      if (hrefOf(cards[shown[pos]][1]) !== null) { show(pos); return; }
    }
  }
  function close() {
    view.classList.remove("ic-open");
    viewImg.removeAttribute("src");
    current = -1;
  }
  grid.addEventListener("click", (event) => {
    const link = event.target.closest("a.ic-box");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    const slot = link.closest(".ic-slot");
    if (!slot) return;
    event.preventDefault();
    show(Number(slot.dataset.pos));
  });
  view.addEventListener("click", (event) => {
    if (event.target === view) close();
  });
  view.querySelector("[data-act=close]").addEventListener("click", close);
  view.querySelector("[data-act=prev]").addEventListener("click", () => step(-1));
  view.querySelector("[data-act=next]").addEventListener("click", () => step(1));
  document.addEventListener("keydown", (event) => {
    if (current < 0) {
      if (event.key === "/" && document.activeElement !== query) {
        event.preventDefault();
        query.focus();
      }
      return;
    }
    if (event.key === "Escape") close();
    else if (event.key === "ArrowRight") step(1);
    else if (event.key === "ArrowLeft") step(-1);
  });

  grid.classList.remove("ic-static");
  grid.replaceChildren();
  select();
  // When the first cards were in place, in ms since navigation (read by the tests).
  document.documentElement.dataset.ready = String(Math.round(performance.now()));
})();
"""
