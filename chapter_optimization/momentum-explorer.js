// Momentum gezgini: the interactive figure of the "Momentum" section.
// Fills <div id="momentum-explorer">, replacing the still the build put there
// for readers without JavaScript (bookbuild/render/interactive.py). Everything is computed here, in IEEE doubles, in the same
// operation order as the chapter's `momentum_2d`, `gd_2d` and `d2l.train_2d`,
// and the result lines are formatted as Python's f'{float(x):f}' prints them.
// No library, no network.
(function () {
  'use strict';

  const STEPS = 20;                           // d2l.train_2d(steps=20)
  const ETA = { lo: 1, hi: 150, def: 60 };    // hundredths: 0.01 ... 1.50
  const BETA = { lo: 0, hi: 99, def: 50 };    // hundredths: 0.00 ... 0.99
  // The chapter's lambdas, each as an exact fraction p/q.
  const LAMBDAS = [
    { s: '0.1', v: 0.1, p: 1, q: 10, mark: 'circle' },
    { s: '1', v: 1, p: 1, q: 1, mark: 'square' },
    { s: '10', v: 10, p: 10, q: 1, mark: 'diamond' },
    { s: '19', v: 19, p: 19, q: 1, mark: 'triangle' },
  ];
  const VERDICT = { conv: 'yakınsar', osc: 'salınarak yakınsar', div: 'ıraksar' };
  const NS = 'http://www.w3.org/2000/svg';
  const MINUS = '\u2212';

  // ---- Numbers -----------------------------------------------------------

  // Python's format(x, 'f'): the exact binary value, correctly rounded
  // (half to even) to 6 decimals, every integer digit, the sign of -0.0 kept.
  function pyFloat(x) {
    if (x !== x) return 'nan';
    if (x === Infinity) return 'inf';
    if (x === -Infinity) return '-inf';
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x);
    const hi = view.getUint32(0), lo = view.getUint32(4);
    const biased = (hi >>> 20) & 0x7ff;
    let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
    let exp = -1074;                            // subnormal
    if (biased) { mant |= 1n << 52n; exp = biased - 1075; }
    const SCALE = 1000000n;
    let n;                                      // round(|x| * 10^6)
    if (exp >= 0) {
      n = (mant << BigInt(exp)) * SCALE;
    } else {
      const num = mant * SCALE, sh = BigInt(-exp), den = 1n << sh;
      n = num >> sh;
      const twice = (num - (n << sh)) << 1n;
      if (twice > den || (twice === den && (n & 1n))) n += 1n;
    }
    const frac = (n % SCALE).toString().padStart(6, '0');
    return (hi >>> 31 ? '-' : '') + (n / SCALE).toString() + '.' + frac;
  }

  // momentum_2d, iterated by train_2d from (-5, -2) with zero state.
  function momentumTrace(eta, beta) {
    let x1 = -5, x2 = -2, v1 = 0, v2 = 0;
    const pts = [[x1, x2]];
    for (let i = 0; i < STEPS; i++) {
      v1 = beta * v1 + 0.2 * x1;
      v2 = beta * v2 + 4 * x2;
      x1 = x1 - eta * v1;
      x2 = x2 - eta * v2;
      pts.push([x1, x2]);
    }
    return pts;
  }

  // gd_2d, iterated the same way.
  function gdTrace(eta) {
    let x1 = -5, x2 = -2;
    const pts = [[x1, x2]];
    for (let i = 0; i < STEPS; i++) {
      const n1 = x1 - eta * 0.2 * x1, n2 = x2 - eta * 4 * x2;
      x1 = n1; x2 = n2;
      pts.push([x1, x2]);
    }
    return pts;
  }

  // The line train_2d prints.
  function resultLine(pts) {
    const p = pts[pts.length - 1];
    return 'epoch ' + STEPS + ', x1: ' + pyFloat(p[0]) + ', x2: ' + pyFloat(p[1]);
  }

  // R(beta, eta, lambda) = [[beta, lambda], [-eta beta, 1 - eta lambda]] for
  // eta = i/100, beta = j/100, lambda = p/q. Trace T = 1 + beta - eta lambda,
  // determinant = beta, eigenvalues (T +- sqrt(T^2 - 4 beta)) / 2.
  // Verdicts are decided in exact integer arithmetic (no rounding at the
  // boundaries): converges iff spectral radius < 1 iff 0 < eta lambda < 2 + 2 beta
  // (beta < 1 always here). A radius of exactly 1 does not converge: "ıraksar".
  // "salınarak yakınsar": converges, and the dominant eigenvalue is complex
  // (T^2 < 4 beta) or negative (T < 0).
  function analyse(i, j, lam) {
    const den = 100 * lam.q;
    const tn = den + j * lam.q - i * lam.p;      // T = tn / den
    const discN = 100 * tn * tn - 4 * j * den * den; // sign of T^2 - 4 beta
    const T = tn / den, disc = discN / (100 * den * den);
    const res = { etaLam: i * lam.p / den, T: T };
    if (discN < 0) {
      res.complex = true;
      res.re = T / 2;
      res.im = Math.sqrt(-disc) / 2;
      res.rho = Math.sqrt(j / 100);
    } else {
      const r = Math.sqrt(disc);
      res.complex = false;
      res.mu1 = (T + (T < 0 ? -r : r)) / 2;     // dominant one
      res.mu2 = (T - (T < 0 ? -r : r)) / 2;
      res.double = discN === 0;
      res.rho = Math.abs(res.mu1);
    }
    const converges = i * lam.p < (200 + 2 * j) * lam.q;
    res.verdict = !converges ? 'div' : (discN < 0 || tn < 0) ? 'osc' : 'conv';
    return res;
  }

  // ---- Small helpers ------------------------------------------------------

  const hundredths = (k) => k / 100;           // correctly rounded: 60/100 === 0.6
  const fix = (x, d) => {
    const s = Math.abs(x).toFixed(d);
    return (x < 0 && /[1-9]/.test(s) ? MINUS : '') + s;
  };
  const tick = (x) => (x < 0 ? MINUS : '') + Math.abs(x);

  function el(tag, attrs, parent, text) {
    const node = document.createElementNS(NS, tag);
    for (const k in attrs) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function h(tag, attrs, parent, text) {
    const node = document.createElement(tag);
    for (const k in attrs) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  const r1 = (x) => Math.round(x * 10) / 10;

  // A marker shape centred at (x, y).
  function marker(kind, x, y, s, cls, parent) {
    if (kind === 'circle') return el('circle', { cx: r1(x), cy: r1(y), r: s, class: cls }, parent);
    if (kind === 'square') {
      return el('rect', { x: r1(x - s), y: r1(y - s), width: 2 * s, height: 2 * s, class: cls }, parent);
    }
    const pts = kind === 'diamond'
      ? [[x, y - 1.35 * s], [x + 1.35 * s, y], [x, y + 1.35 * s], [x - 1.35 * s, y]]
      : [[x, y - 1.4 * s], [x + 1.3 * s, y + s], [x - 1.3 * s, y + s]];
    return el('polygon', { points: pts.map((p) => r1(p[0]) + ',' + r1(p[1])).join(' '), class: cls }, parent);
  }

  // Clip the segment a-b to the box [x0, x1] x [y0, y1] (Liang-Barsky);
  // null if nothing of it is inside or it is not finite.
  function clipSegment(a, b, box) {
    if (![a[0], a[1], b[0], b[1]].every(Number.isFinite)) return null;
    const dx = b[0] - a[0], dy = b[1] - a[1];
    if (!Number.isFinite(dx) || !Number.isFinite(dy)) return null;
    let t0 = 0, t1 = 1;
    const p = [-dx, dx, -dy, dy];
    const q = [a[0] - box.x0, box.x1 - a[0], a[1] - box.y0, box.y1 - a[1]];
    for (let k = 0; k < 4; k++) {
      if (p[k] === 0) { if (q[k] < 0) return null; continue; }
      const t = q[k] / p[k];
      if (p[k] < 0) { if (t > t1) return null; if (t > t0) t0 = t; } else { if (t < t0) return null; if (t < t1) t1 = t; }
    }
    return [[a[0] + t0 * dx, a[1] + t0 * dy], [a[0] + t1 * dx, a[1] + t1 * dy], t0 === 0, t1 === 1];
  }

  const inside = (p, box) => p[0] >= box.x0 && p[0] <= box.x1 && p[1] >= box.y0 && p[1] <= box.y1;

  // A plot frame: viewBox size, margins, data ranges and pixel maps.
  function frame(W, H, m, x0, x1, y0, y1) {
    const f = { W: W, H: H, l: m[3], t: m[0], r: W - m[1], b: H - m[2], x0: x0, x1: x1, y0: y0, y1: y1 };
    f.sx = (x) => f.l + (x - x0) / (x1 - x0) * (f.r - f.l);
    f.sy = (y) => f.b - (y - y0) / (y1 - y0) * (f.b - f.t);
    return f;
  }

  function axes(svg, f, xt, yt, xl, yl) {
    const g = el('g', { class: 'mx-axes' }, svg);
    for (const t of xt) {
      const x = r1(f.sx(t.v));
      el('line', { x1: x, x2: x, y1: f.b, y2: f.b + (t.minor ? 3 : 5) }, g);
      if (!t.minor) el('text', { x: x, y: f.b + 6, dy: '0.9em', 'text-anchor': 'middle' }, g, t.s);
    }
    for (const t of yt) {
      const y = r1(f.sy(t.v));
      el('line', { x1: f.l - 5, x2: f.l, y1: y, y2: y }, g);
      el('text', { x: f.l - 8, y: y, dy: '0.35em', 'text-anchor': 'end' }, g, t.s);
    }
    el('rect', { x: f.l, y: f.t, width: f.r - f.l, height: f.b - f.t, class: 'mx-frame' }, g);
    el('text', { x: (f.l + f.r) / 2, y: f.H - 5, 'text-anchor': 'middle', class: 'mx-axlabel' }, g, xl);
    const cy = (f.t + f.b) / 2;
    el('text', { x: 3, y: cy, dy: '0.8em', 'text-anchor': 'middle', class: 'mx-axlabel',
      transform: 'rotate(-90 3 ' + cy + ')' }, g, yl);
  }

  // ---- The figure ---------------------------------------------------------

  function build(root) {
    root.classList.add('mx');
    root.textContent = '';
    const fig = h('figure', { class: 'mx-figure' }, root);
    h('figcaption', { class: 'mx-title' }, fig, 'Etkileşimli: momentum gezgini');
    // What to try first: what the section's text says, seen (numbers as momentumTrace gives them).
    h('p', { class: 'mx-lead' }, fig,
      'η = 0.6 iken β’yı 0’dan 0.9’a çekin: β = 0’da (gradyan inişi) x₂ yönünde ıraksar; β 0.5’e ' +
      'yaklaştıkça yörünge 20 adımda minimuma (+) varır; 0.9’da fazla hız kazanıp minimumun çevresinde ' +
      'dolanır. Sonra η’yı değiştirin: gradyan inişi η > 0.5’te ıraksar, momentum ηλ < 2 + 2β oldukça yakınsar.');

    // Controls
    const ctl = h('div', { class: 'mx-controls' }, fig);
    const sliders = {};
    for (const spec of [
      { key: 'eta', sym: 'η', label: 'Öğrenme oranı η', r: ETA },
      { key: 'beta', sym: 'β', label: 'Momentum β', r: BETA },
    ]) {
      const row = h('div', { class: 'mx-slider' }, ctl);
      const id = 'mx-' + spec.key;
      h('label', { for: id }, row, spec.label);
      const input = h('input', {
        type: 'range', id: id, min: String(hundredths(spec.r.lo)), max: String(hundredths(spec.r.hi)),
        step: '0.01', value: String(hundredths(spec.r.def)),
      }, row);
      const out = h('output', { for: id, id: id + '-value', 'aria-hidden': 'true' }, row);
      sliders[spec.key] = { input: input, out: out, sym: spec.sym, r: spec.r };
    }
    const presets = h('div', { class: 'mx-presets' }, ctl);
    h('span', { class: 'mx-presets-label', id: 'mx-presets-label' }, presets, 'Bölümdeki ayarlar:');
    const presetGroup = h('div', { role: 'group', 'aria-labelledby': 'mx-presets-label', class: 'mx-preset-buttons' }, presets);
    // Toggle buttons (WAI-ARIA): the one whose setting is the current one is pressed.
    const presetButtons = [[60, 50], [60, 25], [60, 0], [40, 0]].map((pr) => {
      const b = h('button', { type: 'button', class: 'mx-preset', 'aria-pressed': 'false' }, presetGroup,
        'η = ' + hundredths(pr[0]) + ', β = ' + hundredths(pr[1]));
      b.addEventListener('click', () => { setState(pr[0], pr[1]); update(true); });
      return { button: b, i: pr[0], j: pr[1] };
    });

    // Panel 1: trajectories on the contours of f.
    const p1 = h('div', { class: 'mx-panel', role: 'group', 'aria-labelledby': 'mx-p1-title' }, fig);
    const t1 = h('p', { class: 'mx-panel-title', id: 'mx-p1-title' }, p1);
    t1.append('Yörüngeler: ', math('f(x) = 0.1 x₁² + 2 x₂²'), ', 20 adım, başlangıç (−5, −2)');
    const F = frame(560, 400, [10, 12, 50, 56], -5.5, 1.0, -3.0, 3.0);
    const svg1 = el('svg', { viewBox: '0 0 ' + F.W + ' ' + F.H, class: 'mx-plot mx-plot-wide', role: 'img',
      'aria-labelledby': 'mx-p1-title mx-p1-desc' }, p1);
    el('desc', { id: 'mx-p1-desc' }, svg1,
      'f’nin eş yükselti elipsleri üzerinde momentum ve gradyan inişi yörüngeleri; son noktalar aşağıdaki satırlarda.');
    const clip = el('clipPath', { id: 'mx-clip1' }, el('defs', {}, svg1));
    el('rect', { x: F.l, y: F.t, width: F.r - F.l, height: F.b - F.t }, clip);
    const contours = el('g', { class: 'mx-contours', 'clip-path': 'url(#mx-clip1)' }, svg1);
    // The contour levels matplotlib picks for show_trace_2d: 3, 6, ..., 21.
    // 0.1 x1^2 + 2 x2^2 = c is the ellipse with semi-axes sqrt(10 c), sqrt(c / 2).
    const kx = (F.r - F.l) / (F.x1 - F.x0), ky = (F.b - F.t) / (F.y1 - F.y0);
    for (let c = 3; c <= 21; c += 3) {
      el('ellipse', { cx: r1(F.sx(0)), cy: r1(F.sy(0)), rx: r1(Math.sqrt(10 * c) * kx),
        ry: r1(Math.sqrt(c / 2) * ky) }, contours);
    }
    el('path', { class: 'mx-min', d: 'M' + (F.sx(0) - 5) + ' ' + F.sy(0) + 'h10M' + F.sx(0) + ' ' + (F.sy(0) - 5) + 'v10' }, svg1);
    axes(svg1, F,
      [-5, -4, -3, -2, -1, 0, 1].map((v) => ({ v: v, s: tick(v) })),
      [-3, -2, -1, 0, 1, 2, 3].map((v) => ({ v: v, s: tick(v) })), 'x₁', 'x₂');
    const traces = el('g', { 'clip-path': 'url(#mx-clip1)' }, svg1);

    const legend1 = h('ul', { class: 'mx-legend' }, p1);
    const legMom = legendItem(legend1, 'mx-sw-mom', '');
    const legGd = legendItem(legend1, 'mx-sw-gd', '');
    legendItem(legend1, 'mx-sw-contour', 'eş yükselti eğrileri f = 3, 6, …, 21');
    legendItem(legend1, 'mx-sw-min', 'minimum (0, 0)');
    legendItem(legend1, 'mx-sw-exit', 'alanın dışına çıktığı yer (ıraksar)');

    const outs = h('div', { class: 'mx-results', 'aria-live': 'polite' }, p1);
    h('p', { class: 'mx-out-head' }, outs, 'd2l.train_2d’nin yazdırdığı satırlar:');
    const resMom = resultRow(outs, 'Momentum', 'momentum');
    const resGd = resultRow(outs, 'Gradyan inişi', 'gd');

    // Panel 2: the (eta lambda, beta) plane and the eigenvalues of R.
    // Folded until the reader gets there: the text explains it in "Skaler Fonksiyonlar" (11.6.3.2),
    // far below.
    const p2 = h('details', { class: 'mx-panel mx-eigen' }, fig);
    const t2 = h('summary', { class: 'mx-panel-title', id: 'mx-p2-title' }, p2);
    t2.append('Neden yakınsar ya da ıraksar? Özdeğerler, skaler fonksiyonlarda ', math('f(x) = λx²/2'),
      ', λ ∈ {0.1, 1, 10, 19} ', h('span', { class: 'mx-summary-note' }, null, '(aşağıda, “Skaler Fonksiyonlar” kısmında açıklanır)'));
    window.addEventListener('beforeprint', () => { p2.open = true; });   // on paper, all of it
    const p2grid = h('div', { class: 'mx-p2-grid' }, p2);
    const p2plot = h('div', {}, p2grid);
    const G = frame(400, 286, [10, 12, 50, 56], -3, Math.log10(30), 0, 1);
    const svg2 = el('svg', { viewBox: '0 0 ' + G.W + ' ' + G.H, class: 'mx-plot', role: 'img',
      'aria-labelledby': 'mx-p2-title mx-p2-desc' }, p2plot);
    el('desc', { id: 'mx-p2-desc' }, svg2,
      '(ηλ, β) düzlemi, logaritmik ηλ ekseniyle: 0 < ηλ < 2 + 2β bölgesinde momentum yakınsar; ' +
      'noktalar şimdiki η ve β için dört λ değeridir.');
    const clip2 = el('clipPath', { id: 'mx-clip2' }, el('defs', {}, svg2));
    el('rect', { x: G.l, y: G.t, width: G.r - G.l, height: G.b - G.t }, clip2);
    drawRegions(svg2, G);
    const decades = [];
    for (let d = -3; d <= 1; d++) {
      decades.push({ v: d, s: ['0.001', '0.01', '0.1', '1', '10'][d + 3] });
      for (let m = 2; m <= 9; m++) if (d + Math.log10(m) <= G.x1) decades.push({ v: d + Math.log10(m), minor: true });
    }
    axes(svg2, G, decades, [0, 0.25, 0.5, 0.75, 1].map((v) => ({ v: v, s: String(v) })), 'ηλ', 'β');
    const points = el('g', {}, svg2);

    const legend2 = h('ul', { class: 'mx-legend' }, p2plot);
    legendItem(legend2, 'mx-sw-conv', VERDICT.conv);
    legendItem(legend2, 'mx-sw-osc', VERDICT.osc);
    legendItem(legend2, 'mx-sw-div', VERDICT.div);
    legendItem(legend2, 'mx-sw-bound', 'ηλ = 2 + 2β');
    legendItem(legend2, 'mx-sw-beta', 'şimdiki β; işaretler dört λ (tabloda)');

    const p2table = h('div', {}, p2grid);
    const table = h('table', { class: 'mx-table' }, p2table);
    h('caption', { class: 'mx-visually-hidden' }, table, 'R(β, η, λ) matrisinin özdeğerleri ve yakınsama kararı');
    const hr = h('tr', {}, h('thead', {}, table));
    for (const c of ['λ', 'ηλ', 'özdeğerler μ', 'ρ', 'karar']) h('th', { scope: 'col' }, hr, c);
    const tbody = h('tbody', {}, table);
    const rows = LAMBDAS.map((lam) => {
      const tr = h('tr', { 'data-lambda': lam.s }, tbody);
      const th = h('th', { scope: 'row' }, tr);
      const sw = el('svg', { viewBox: '0 0 14 14', class: 'mx-mark', 'aria-hidden': 'true' }, th);
      marker(lam.mark, 7, 7.5, 4.2, '', sw);
      th.append(lam.s);
      return { tr: tr, lam: lam, sw: sw, etaLam: h('td', {}, tr), eig: h('td', { class: 'mx-eig' }, tr),
        rho: h('td', {}, tr), verdict: h('span', { 'data-verdict': '' }, h('td', {}, tr)) };
    });
    const note = h('p', { class: 'mx-note' }, p2table);
    note.append(math('R(β, η, λ) = [[β, λ], [−ηβ, 1 − ηλ]]'),
      '; ρ en büyük |μ|’dür. ρ < 1 ise yakınsar; bu, 0 < ηλ < 2 + 2β demektir (β = 0 için gradyan inişinin ' +
      '0 < ηλ < 2 koşulu). Sınırdaki ρ = 1 de yakınsamaz, “ıraksar” sayılır; karar tam (rasyonel) aritmetikle ' +
      'verilir. Baskın özdeğer karmaşık ya da negatifse: “salınarak yakınsar”.');

    // ---- State ----
    const state = { i: ETA.def, j: BETA.def };
    const scale = { 1: 1, 2: 1 };   // viewBox units per CSS pixel, per plot
    const fsize = { 1: 12.5, 2: 12.5 }; // their text size in viewBox units

    function setState(i, j) {
      state.i = i; state.j = j;
      sliders.eta.input.value = String(hundredths(i));
      sliders.beta.input.value = String(hundredths(j));
    }

    let urlTimer = 0;
    function update(writeUrl) {
      const eta = hundredths(state.i), beta = hundredths(state.j);
      for (const key of ['eta', 'beta']) {
        const s = sliders[key], v = key === 'eta' ? eta : beta;
        s.out.textContent = v.toFixed(2);
        s.input.setAttribute('aria-valuetext', s.sym + ' = ' + v.toFixed(2));
      }
      for (const pr of presetButtons) {
        pr.button.setAttribute('aria-pressed', String(pr.i === state.i && pr.j === state.j));
      }
      const mom = momentumTrace(eta, beta), gd = gdTrace(eta);
      resMom.textContent = resultLine(mom);
      resGd.textContent = resultLine(gd);
      traces.textContent = '';
      const box = { x0: F.x0, x1: F.x1, y0: F.y0, y1: F.y1 };
      const k1 = Math.min(Math.max(scale[1], 0.8), 1.7);
      const outGd = drawTrace(traces, gd, F, box, 'mx-gd', 'square', k1);
      const outMom = drawTrace(traces, mom, F, box, 'mx-mom', 'circle', k1);
      legMom.textContent = 'momentum (η = ' + eta.toFixed(2) + ', β = ' + beta.toFixed(2) + ')' + OUTSIDE[outMom];
      legGd.textContent = 'gradyan inişi (η = ' + eta.toFixed(2) + ')' + OUTSIDE[outGd];

      points.textContent = '';
      const k2 = Math.min(Math.max(scale[2], 0.8), 1.7), fs = fsize[2] * 0.92;
      const yb = G.sy(beta);
      // Region names, moved off the current beta line.
      for (const [v, x, y, alt] of [['conv', -2.2, 0.3, 0.62], ['osc', -0.55, 0.86, 0.55], ['div', 1.05, 0.3, 0.62]]) {
        el('text', { x: r1(G.sx(x)), y: r1(G.sy(Math.abs(beta - y) < 0.13 ? alt : y)), dy: '0.35em',
          class: 'mx-r-label', 'text-anchor': 'middle' }, points, VERDICT[v]);
      }
      el('line', { x1: G.l, x2: G.r, y1: r1(yb), y2: r1(yb), class: 'mx-betaline' }, points);
      const placed = [];
      const found = rows.map((row) => {
        const a = analyse(state.i, state.j, row.lam);
        return { row: row, a: a, x: G.sx(Math.min(Math.max(Math.log10(a.etaLam), G.x0), G.x1)) };
      });
      found.forEach((f) => marker(f.row.lam.mark, f.x, yb, 5 * k2, 'mx-pt mx-pt-' + f.a.verdict, points));
      // Labels: above the point if there is room, else below, else one line further out.
      found.slice().sort((p, q) => p.x - q.x).forEach((f) => {
        const text = 'λ=' + f.row.lam.s, w = text.length * 0.6 * fs;
        const x = Math.min(Math.max(f.x, G.l + w / 2 + 2), G.r - w / 2 - 2);
        const up = yb - 6 * k2 - 0.25 * fs, down = yb + 6 * k2 + 0.85 * fs, line = 1.1 * fs;
        const spots = [up, down, up - line, down + line].filter((y) => y - 0.8 * fs > G.t && y < G.b - 2);
        const y = spots.find((c) => !placed.some((p) => Math.abs(p.x - x) < (p.w + w) / 2 + 3 && Math.abs(p.y - c) < fs))
          || spots[0] || up;
        placed.push({ x: x, y: y, w: w });
        el('text', { x: r1(x), y: r1(y), 'text-anchor': 'middle', class: 'mx-ptlabel' }, points, text);
      });
      found.forEach(({ row, a }) => {
        row.etaLam.textContent = a.etaLam.toFixed(row.lam.q === 10 ? 3 : 2);
        row.eig.textContent = '';
        if (a.complex) {
          h('span', {}, row.eig, fix(a.re, 3) + ' ± ' + a.im.toFixed(3) + 'i');
        } else if (a.double) {
          h('span', {}, row.eig, fix(a.mu1, 3) + ' (çift)');
        } else {
          h('span', {}, row.eig, fix(a.mu1, 3));
          h('span', {}, row.eig, fix(a.mu2, 3));
        }
        row.rho.textContent = a.rho.toFixed(3);
        row.verdict.textContent = VERDICT[a.verdict];
        row.verdict.setAttribute('data-verdict', VERDICT[a.verdict]);
        row.verdict.className = 'mx-verdict mx-v-' + a.verdict;
        row.sw.setAttribute('class', 'mx-mark mx-pt-' + a.verdict);
      });

      if (writeUrl) {
        clearTimeout(urlTimer);
        urlTimer = setTimeout(writeQuery, 120, eta, beta);
      }
    }

    function onInput() {
      state.i = snap(parseFloat(sliders.eta.input.value), ETA);
      state.j = snap(parseFloat(sliders.beta.input.value), BETA);
      update(true);
    }
    sliders.eta.input.addEventListener('input', onInput);
    sliders.beta.input.addEventListener('input', onInput);

    // Keep the text of the plots near 12 CSS pixels whatever width they are drawn at.
    if (window.ResizeObserver) {
      const ro = new ResizeObserver(() => {
        let changed = false;
        [[svg1, 1], [svg2, 2]].forEach(([svg, n]) => {
          const w = svg.getBoundingClientRect().width;
          if (!w) return;
          const k = Math.round(svg.viewBox.baseVal.width / w * 100) / 100;
          if (k !== scale[n]) { scale[n] = k; changed = true; }
          fsize[n] = Math.min(Math.max(12.5 * k, 10), 21);
          svg.style.setProperty('--mx-fs', fsize[n] + 'px');
        });
        if (changed) update(false);
      });
      ro.observe(svg1);
      ro.observe(svg2);
    }

    const q = readQuery();
    setState(q.i, q.j);
    update(false);
  }

  const OUTSIDE = ['', ' — bazı adımlar alanın dışında', ' — alanın dışına çıkıyor'];

  function math(text) {
    const s = document.createElement('span');
    s.className = 'mx-math';
    s.textContent = text;
    return s;
  }

  function legendItem(ul, cls, text) {
    const li = h('li', {}, ul);
    const sw = el('svg', { viewBox: '0 0 26 12', class: 'mx-swatch ' + cls, 'aria-hidden': 'true' }, li);
    if (cls === 'mx-sw-mom' || cls === 'mx-sw-gd') {
      el('line', { x1: 1, x2: 25, y1: 6, y2: 6 }, sw);
      marker(cls === 'mx-sw-mom' ? 'circle' : 'square', 13, 6, 3, '', sw);
    } else if (cls === 'mx-sw-contour' || cls === 'mx-sw-bound' || cls === 'mx-sw-beta') {
      el('line', { x1: 1, x2: 25, y1: 6, y2: 6 }, sw);
    } else if (cls === 'mx-sw-min') {
      el('path', { d: 'M8 6h10M13 1v10', class: 'mx-min' }, sw);
    } else if (cls === 'mx-sw-exit') {
      el('path', { d: 'M3 6h14', class: 'mx-exit-line' }, sw);
      el('path', { d: 'M15 1.5l8 4.5l-8 4.5z', class: 'mx-exit' }, sw);
    } else {
      el('rect', { x: 1, y: 1, width: 24, height: 10, rx: 2 }, sw);
    }
    return h('span', {}, li, text);
  }

  function resultRow(parent, label, key) {
    const row = h('p', { class: 'mx-out' }, parent);
    h('span', { class: 'mx-out-label' }, row, label + ': ');
    return h('code', { 'data-result': key }, row);
  }

  // One trajectory, clipped to the plot box. Returns 0 if it is all inside,
  // 1 if some steps are outside, 2 if it ends outside (or not finite). One that ends outside diverges:
  // it is drawn up to where it first leaves the box, with an arrowhead there, pointing on; what
  // follows, steps ever farther away, is left out (drawn, it was streaks across the box).
  function drawTrace(g, pts, F, box, cls, mark, k) {
    let d = '', pen = false;
    const last = pts[pts.length - 1];
    const out = !inside(last, box) ? 2 : pts.some((p) => !inside(p, box)) ? 1 : 0;
    const px = (p) => r1(F.sx(p[0])) + ' ' + r1(F.sy(p[1]));
    let shown = pts.length, exit = null;
    for (let n = 1; n < pts.length; n++) {
      const seg = clipSegment(pts[n - 1], pts[n], box);
      if (!seg) { pen = false; if (out === 2 && inside(pts[n - 1], box)) { shown = n; break; } continue; }
      if (!pen || !seg[2]) d += 'M' + px(seg[0]);
      d += 'L' + px(seg[1]);
      pen = seg[3];
      if (out === 2 && !seg[3]) { shown = n; exit = seg; break; }
    }
    const grp = el('g', { class: cls }, g);
    if (d) el('path', { d: d, class: 'mx-line' }, grp);
    pts.slice(0, shown).forEach((p) => {
      if (inside(p, box)) marker(mark, F.sx(p[0]), F.sy(p[1]), (mark === 'square' ? 2.7 : 3.2) * k, 'mx-dot', grp);
    });
    if (exit) {
      const a = [F.sx(exit[0][0]), F.sy(exit[0][1])], b = [F.sx(exit[1][0]), F.sy(exit[1][1])];
      const len = Math.hypot(b[0] - a[0], b[1] - a[1]) || 1, ux = (b[0] - a[0]) / len, uy = (b[1] - a[1]) / len;
      const s = 9 * k, tip = [b[0], b[1]], back = [b[0] - ux * s, b[1] - uy * s];
      el('path', { class: 'mx-exit', d: 'M' + r1(tip[0]) + ' ' + r1(tip[1]) + 'L' + r1(back[0] - uy * s / 2) + ' ' +
        r1(back[1] + ux * s / 2) + 'L' + r1(back[0] + uy * s / 2) + ' ' + r1(back[1] - ux * s / 2) + 'Z' }, grp);
    }
    return out;
  }

  // Shaded regions of the (log eta lambda, beta) plane.
  function drawRegions(svg, G) {
    const g = el('g', { class: 'mx-regions', 'clip-path': 'url(#mx-clip2)' }, svg);
    const lg = (x) => Math.max(Math.log10(x), G.x0 - 1);
    const pt = (lx, b) => r1(G.sx(lx)) + ',' + r1(G.sy(b));
    const N = 160, bound = [], osc = [];
    for (let k = 0; k <= N; k++) {
      const b = k / N, s = Math.sqrt(b);
      bound.push(pt(Math.log10(2 + 2 * b), b));
      osc.push(pt(lg((1 - s) * (1 - s)), b));
    }
    const L = G.x0 - 1, R = G.x1 + 1;
    // monotone convergence: left of (1 - sqrt(beta))^2
    el('polygon', { class: 'mx-r-conv', points: [pt(L, 0)].concat(osc, [pt(L, 1)]).join(' ') }, g);
    // oscillating convergence: between the two curves
    el('polygon', { class: 'mx-r-osc', points: osc.concat(bound.slice().reverse()).join(' ') }, g);
    // divergence: right of 2 + 2 beta
    el('polygon', { class: 'mx-r-div', points: bound.concat([pt(R, 1), pt(R, 0)]).join(' ') }, g);
    el('polyline', { class: 'mx-r-bound', points: bound.join(' ') }, g);
  }

  // ---- URL state ------------------------------------------------------------

  function snap(v, r) {
    if (!Number.isFinite(v)) return r.def;
    return Math.min(r.hi, Math.max(r.lo, Math.round(v * 100)));
  }

  function readQuery() {
    const q = new URLSearchParams(window.location.search);
    const num = (name) => (q.has(name) && q.get(name).trim() !== '' ? Number(q.get(name)) : NaN);
    return { i: snap(num('eta'), ETA), j: snap(num('beta'), BETA) };
  }

  // Set eta and beta in the query, every other parameter and the hash kept as they are.
  function writeQuery(eta, beta) {
    const loc = window.location;
    const parts = loc.search.replace(/^\?/, '').split('&').filter((s) => s !== '');
    const want = { eta: String(eta), beta: String(beta) };
    const seen = {};
    const kept = [];
    for (const part of parts) {
      let name = part.split('=')[0];
      try { name = decodeURIComponent(name.replace(/\+/g, ' ')); } catch (e) { /* keep it raw */ }
      if (name in want) {
        if (!seen[name]) kept.push(name + '=' + want[name]);
        seen[name] = true;
      } else {
        kept.push(part);
      }
    }
    for (const name of ['eta', 'beta']) if (!seen[name]) kept.push(name + '=' + want[name]);
    const url = loc.pathname + '?' + kept.join('&') + loc.hash;
    try { window.history.replaceState(window.history.state, '', url); } catch (e) { /* file:// or sandbox */ }
  }

  // ---- Start --------------------------------------------------------------------

  function start() {
    const root = document.getElementById('momentum-explorer');
    if (root && !root.dataset.mxReady) {
      root.dataset.mxReady = '1';
      build(root);
    }
  }

  // For tests (check.py) and the curious reader's console.
  window.d2lMomentumExplorer = { pyFloat: pyFloat, momentumTrace: momentumTrace, gdTrace: gdTrace,
    resultLine: resultLine, analyse: analyse };

  // Built when the reader nears it (a screen ahead), so it adds nothing to the page's start; at
  // once when the page opens at an anchor, and before a link within the page is followed (what
  // lies above a link's target must keep its height, or the scroll stops short of it); before the
  // first Tab (the keyboard must find its controls) and before printing.
  function startNear() {
    const root = document.getElementById('momentum-explorer');
    if (!root || window.location.hash || !window.IntersectionObserver) return start();
    const near = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) startNow();
    }, { rootMargin: '100% 0px' });
    const onTab = (event) => { if (event.key === 'Tab') startNow(); };
    const onLink = (event) => {   // a click's default action, the scroll, follows its listeners
      const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
      if (link && link.hash && link.origin === location.origin && link.pathname === location.pathname) startNow();
    };
    function startNow() {
      near.disconnect();
      document.removeEventListener('keydown', onTab, true);
      document.removeEventListener('click', onLink, true);
      window.removeEventListener('beforeprint', startNow);
      start();
    }
    near.observe(root);
    document.addEventListener('keydown', onTab, true);
    document.addEventListener('click', onLink, true);
    window.addEventListener('beforeprint', startNow);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', startNear);
  else startNear();
})();
