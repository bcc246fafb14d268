// The status page's style and its one script, inline: a director needs no
// CDN and no build step to show it. The script only refreshes the page in
// place (fetch, then swap <main>), so the page reads the same without it;
// its hash goes into the Content-Security-Policy, which allows nothing else.
import { nodeCrypto } from '../../checks/lazy-module.js';

export const STYLE = `
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#1d2330;--mute:#5d6678;--line:#dde1e8;
--up:#1f9d55;--down:#d62f2f;--unknown:#8a93a5;--rising:#2f6fd6;--draining:#d98a00;--none:#e7eaf0}
@media (prefers-color-scheme:dark){:root{--bg:#12151b;--card:#1b2029;--fg:#e6e9ef;--mute:#9aa3b5;--line:#2c3340;--none:#262c37}}
*{box-sizing:border-box}
html{font:14px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;background:var(--bg);color:var(--fg)}
@media (min-width:1800px){html{font-size:18px}}
@media (min-width:2600px){html{font-size:24px}}
body{margin:0;padding:.75rem}
h1{font-size:1.3rem;margin:0 .75rem 0 0}
h2{font-size:1.05rem;margin:0;display:flex;flex-wrap:wrap;gap:.25rem .6rem;align-items:baseline}
small,.m{color:var(--mute)}
.top{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;margin-bottom:.75rem}
.t{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.3rem .6rem}
.t b{display:block;font-size:1.15rem}
.t.bad{border-color:var(--down);color:var(--down)}
.v{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--up);border-radius:6px;padding:.5rem .7rem;margin:0 0 .6rem}
.v.r1{border-left-color:var(--draining)}
.v.r0{border-left-color:var(--down)}
.p{color:var(--down);font-weight:600}
table{border-collapse:collapse;width:100%;margin-top:.35rem}
th:nth-child(1){width:17%}th:nth-child(2){width:10.5rem}th:nth-child(3){width:7.5rem}th:nth-child(5),th:nth-child(6){width:5.5rem}th:nth-child(7){width:13rem}
th{text-align:left;font-weight:500;color:var(--mute);font-size:.85rem}
th,td{padding:.2rem .45rem;border-top:1px solid var(--line);vertical-align:middle}
td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.s{display:inline-block;min-width:5.3em;text-align:center;border-radius:3px;padding:0 .3rem;color:#fff;font-weight:600}
.s-up{background:var(--up)}.s-down{background:var(--down)}.s-unknown{background:var(--unknown)}
.s-rising{background:var(--rising)}.s-draining{background:var(--draining)}
.ck{max-width:32rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
td.a{white-space:nowrap}
.bad-check{color:var(--down)}
.h{display:flex;width:12rem;height:.9rem;background:var(--none);border-radius:2px;overflow:hidden}
.h i{display:block;height:100%}
.h.u,.h .u{background:var(--up)}.h.d,.h .d{background:var(--down)}.h.k,.h .k{background:var(--unknown)}
.h .x{background:repeating-linear-gradient(45deg,var(--unknown) 0 3px,var(--none) 3px 6px)}
.fb{margin:.35rem 0 0}
footer{margin-top:1rem;color:var(--mute);font-size:.85rem}
a{color:inherit}
#stale{display:none;background:var(--down);color:#fff;padding:.4rem .7rem;border-radius:6px;margin-bottom:.6rem}
body.stale #stale{display:block}
body.stale main{opacity:.55}
@media (max-width:760px){
 body{padding:.4rem}
 thead{display:none}
 tr{display:flex;flex-wrap:wrap;align-items:center;gap:.15rem .5rem;border-top:1px solid var(--line);padding:.3rem 0}
 th,td{border:0;padding:0}
 table,tbody{display:block;width:100%}
 .ck{max-width:none}
 td.a{flex:1 0 100%;font-weight:600;white-space:normal}
 .ck{flex:1 0 100%;white-space:normal;overflow-wrap:anywhere}
 .h{width:100%}
 td.hs{flex:1 0 100%}
}
`;

/**
 * Every `data-refresh` seconds: the page again, its <main> swapped in; a page
 * that cannot be fetched says so (a wall screen must not show old news as new).
 */
export const SCRIPT = `(()=>{const b=document.body,e=Number(b.dataset.refresh)*1e3;if(!(e>0))return;
const tick=async()=>{try{const r=await fetch(location.href,{cache:"no-store",headers:{accept:"text/html"}});
if(!r.ok)throw new Error(String(r.status));const d=new DOMParser().parseFromString(await r.text(),"text/html"),
n=d.querySelector("main"),o=document.querySelector("main");if(n&&o){o.replaceWith(document.adoptNode(n));document.title=d.title}
b.classList.remove("stale")}catch{b.classList.add("stale")}setTimeout(tick,e)};setTimeout(tick,e)})();`;

/** The script's hash as the Content-Security-Policy names it: a browser checks it, so a real sha256. */
export const scriptHash = (): string => `sha256-${nodeCrypto().createHash('sha256').update(SCRIPT).digest('base64')}`;

let policy: string | undefined;

/** Inline style and the one script; fetch only from where the page came. */
export const contentSecurityPolicy = (): string =>
  (policy ??= `default-src 'none'; style-src 'unsafe-inline'; script-src '${scriptHash()}'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'`);
