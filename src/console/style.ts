/** The console's one stylesheet, served at `/assets/console.css` (the CSP allows styles from the console only). */
export const CONSOLE_CSS = `
:root{--fg:#1d232b;--muted:#5f6b7a;--line:#dde2e8;--bg:#f6f7f9;--accent:#1f5fbf;--ok:#2e8b57;--warn:#e08a00;--bad:#c62828}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header.top{display:flex;align-items:center;gap:1.5rem;padding:.6rem 1.2rem;background:#14233c;color:#fff}
header.top a{color:#dfe7f5;text-decoration:none}
header.top .brand{font-weight:700;color:#fff}header.top .brand span{font-weight:400;opacity:.7}
header.top nav{display:flex;gap:1rem;flex:1}
header.top nav a[aria-current]{color:#fff;border-bottom:2px solid #8fb3ff}
header.top .who{display:flex;gap:.8rem;align-items:center;font-size:.9em;opacity:.9}
header.top .who form{margin:0}
main{max-width:1200px;margin:0 auto;padding:1rem 1.2rem 3rem}
h1{font-size:1.5rem;margin:.6rem 0 1rem}h2{font-size:1.15rem;margin:1.6rem 0 .6rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.92em}
a{color:var(--accent)}
.lead{max-width:60rem}.muted{color:var(--muted)}
.notice{background:#e7f3ec;border:1px solid #b7dcc5;padding:.6rem .8rem;border-radius:6px}
.error{background:#fdecea;border:1px solid #f3b8b2;padding:.6rem .8rem;border-radius:6px}
.empty{color:var(--muted)}.empty.ok{color:var(--ok)}
.fix{color:#6b3e00;margin-top:.2rem}
table.rows{width:100%;border-collapse:collapse;background:#fff;border:1px solid var(--line)}
table.rows th,table.rows td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
table.rows thead th{background:#eef1f5;font-weight:600;font-size:.9em}
table.rows td.num,table.rows th.num{text-align:right;white-space:nowrap}
.status{display:inline-block;padding:.05rem .45rem;border-radius:999px;font-size:.8em;font-weight:600;color:#fff;background:#888;white-space:nowrap}
.s-RECEIVED{background:#6b8fd6}.s-WAITING_FOR_RECONCILIATION{background:#9aa7c7}.s-POSTING{background:#3f6fd1}
.s-POSTED{background:var(--ok)}.s-HELD{background:var(--warn)}.s-FAILED{background:var(--bad)}
.s-SKIPPED{background:#9e9e9e}.s-REVERSED{background:#6d6d6d}.s-POST{background:var(--ok)}
form.filters,form.inline{display:flex;flex-wrap:wrap;gap:.8rem;align-items:end;margin:.4rem 0 1rem}
form.filters label,form.inline label{display:flex;flex-direction:column;font-size:.85em;color:var(--muted)}
input,select{font:inherit;padding:.3rem .4rem;border:1px solid #c3cad3;border-radius:4px;background:#fff}
button,a.button{font:inherit;display:inline-block;padding:.4rem .9rem;border-radius:5px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none}
a.button.secondary{background:#fff;color:var(--accent)}a.button.small{padding:.15rem .5rem;font-size:.9em}
button.link{background:none;border:none;color:#dfe7f5;padding:0;text-decoration:underline}
.actions{display:flex;gap:.6rem;margin:1rem 0}
form.confirm{display:flex;gap:1rem;align-items:center;margin-top:1.2rem}
ul.counts{list-style:none;display:flex;flex-wrap:wrap;gap:.5rem;padding:0;margin:0 0 1rem}
ul.counts a{display:flex;gap:.35rem;align-items:center;padding:.3rem .6rem;background:#fff;border:1px solid var(--line);border-radius:6px;text-decoration:none;color:var(--fg)}
ul.counts a[aria-current]{border-color:var(--accent);box-shadow:0 0 0 1px var(--accent)}
figure.chart{margin:0 0 1rem;background:#fff;border:1px solid var(--line);border-radius:6px;padding:.6rem}
figure.chart svg{width:100%;height:auto;max-height:220px;font-size:10px;fill:#5f6b7a}
figure.chart figcaption{font-size:.85em;color:var(--muted)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1.2rem;background:#fff;border:1px solid var(--line);border-radius:6px;padding:.8rem 1rem;margin:0}
dl.facts dt{font-weight:600;color:var(--muted)}dl.facts dd{margin:0}
section.preview{margin-top:1.4rem}
`;
