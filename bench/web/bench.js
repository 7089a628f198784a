// The browser benchmark of make bench, section (e): in one page of one browser,
//
//   - TF.js 4.22's wasm backend (XNNPACK, SIMD; one thread, since the page is not
//     cross-origin isolated and has no SharedArrayBuffer) and, optionally, its plain-JS
//     cpu backend: one forward pass of the benchnet MLP over a batch (as bench/tfjs_mlp.js
//     does under Node: tf.matMul, tf.add, x·sigmoid(x), then reading the result back);
//   - the Go sampler spread over W Web Workers (www/worker.js): the end-to-end job of
//     sampling the batch with a 20-step midpoint solve (40 network evaluations per
//     particle), the particles split into W contiguous slices, one "run" per worker, timed
//     from posting the runs to the last slice's final frame; with the SIMD build
//     (worker-simd.wasm, kernel "simd", for each W of cfg.workers) and the scalar one
//     (worker.wasm, kernel "asm", for each W of cfg.scalarWorkers);
//   - the explorer's figure (cfg.explorer): the same solve of the batch through a shipped
//     model (models/explorer.safetensors, the moons model) over cfg.explorer.workers
//     workers of the SIMD build, as the explorer's page farms it out.
//
// Before anything is timed, each side must compute the same network:
//   - TF.js's outputs on the model's check batch match the float64 reference (benchnet's
//     check_want) within tol·(1 + |want|);
//   - a one-step Euler run of the Go workers from check_t to 1 on the check batch gives
//     the velocity at check_t as (x1 − x0)/dt, which must match TF.js's outputs and the
//     reference within the same tolerance;
//   - the first rows of the W=1 sample match the native Go sampler's (the driver solves
//     them natively and serves them as h<H>.final.bin) within tol·(1 + |x|);
//   - the final positions with W workers and either build are bit-identical to the first
//     timed solve's (each row of the batch is integrated independently of the others, and
//     the two kernels give the same bits);
//   - the explorer figure's positions match the native explorer worker's first rows
//     (explorer.final.bin) within tol·(1 + |x|).
//
// Results go to window.bench.results, one object per measurement in benchnet.Result's
// JSON shape (peer, kernel, what, hidden, threads, batch, reps, best_ms, mean_ms,
// evals_per_s, gflops, max_err), plus boot_ms on the workers' lines; wasm/cmd/benchweb
// polls them. Times are wall time (performance.now()); the browser has no CPU clock.
'use strict';

const bench = (window.bench = {
  state: 'idle', // idle, running, done, error
  results: [],
  log: [],
  error: null,
  info: {},
  start(cfg) {
    if (this.state === 'running') throw new Error('already running');
    this.state = 'running';
    run(Object.assign({}, defaults, cfg || {})).then(
      () => { this.state = 'done'; say('done'); },
      (e) => { this.error = String((e && e.message) || e); this.state = 'error'; say('error: ' + this.error); },
    );
    return true;
  },
});

const defaults = {
  hidden: [64, 256],
  workers: [1, 2, 4], // SIMD build
  scalarWorkers: [2], // scalar build
  explorer: null, // {name, dim, hidden, macs, workers}: the shipped model's figure
  batch: 10000,
  steps: 20,
  budgetMs: 1500, // timed repetitions per measurement, after the warmup
  minReps: 2, // at least this many timed repetitions (Go at H > 128 and TF.js cpu: 1)
  warmup: 2, // TF.js: untimed passes first
  rounds: 1,
  explorerReps: 3, // at least this many timed solves for the explorer figure
  tfjsCpuMaxHidden: 64, // the plain-JS backend takes seconds per pass beyond this (0: skip it)
  tol: 1e-4,
  models: 'models/',
  opTimeoutMs: 600000, // any one boot, check or solve
};

function say(s) {
  bench.log.push(s);
  console.log(s);
  const el = document.getElementById('log');
  if (el) el.textContent += s + '\n';
}

async function fetchOK(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

const timeout = (p, ms, what) => {
  let id;
  const t = new Promise((_, reject) => { id = setTimeout(() => reject(new Error(`${what}: no answer after ${ms / 1000} s`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(id));
};

const round3 = (v) => Math.round(v * 1000) / 1000;

function macs(model) {
  const dims = [model.dim + 1, ...model.hidden, model.dim];
  let n = 0;
  for (let i = 0; i + 1 < dims.length; i++) n += dims[i] * dims[i + 1];
  return n;
}

// The check batch as the network's input rows (x, t).
function checkInput(model) {
  const d = model.dim, n = model.check_x.length / d;
  const cin = new Float32Array(n * (d + 1));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) cin[i * (d + 1) + j] = model.check_x[i * d + j];
    cin[i * (d + 1) + d] = model.check_t;
  }
  return cin;
}

// ---- TF.js ----

// tfjsForward checks and times one backend; it returns TF.js's outputs on the check batch.
async function tfjsForward(model, backend, cfg) {
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} did not initialise`);
  await tf.ready();
  let kernel = `tfjs ${tf.version_core}`;
  let threads = 1;
  if (backend === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    threads = tf.wasm.getThreadsCount();
    kernel += simd ? ' wasm SIMD' : ' wasm (no SIMD)';
    bench.info.tfjsWasm = { simd, threads, multithreadSupport: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') };
  }
  const d = model.dim, dims = [d + 1, ...model.hidden, d];
  const Ws = [], Bs = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    // benchnet stores W as [out][in]; tf.matMul(h, W) wants [in, out].
    const w = tf.tensor2d(model.weights[l], [dims[l + 1], dims[l]]);
    Ws.push(tf.transpose(w));
    w.dispose();
    Bs.push(tf.tensor1d(model.biases[l]));
  }
  const f = (x) => tf.tidy(() => {
    let h = x;
    for (let i = 0; i < Ws.length; i++) {
      h = tf.add(tf.matMul(h, Ws[i]), Bs[i]);
      if (i + 1 < Ws.length) h = tf.mul(h, tf.sigmoid(h));
    }
    return h;
  });
  try {
    const n = model.check_x.length / d;
    const cx = tf.tensor2d(checkInput(model), [n, d + 1]);
    const cy = f(cx);
    const got = await cy.data();
    cy.dispose(); cx.dispose();
    let maxErr = 0;
    for (let i = 0; i < got.length; i++) {
      const w = model.check_want[i], e = Math.abs(got[i] - w) / (1 + Math.abs(w));
      if (!(e <= cfg.tol)) throw new Error(`tfjs-${backend} H=${model.hidden[0]}: check: output ${i} is ${got[i]}, reference ${w} (error ${e.toPrecision(3)} > ${cfg.tol})`);
      maxErr = Math.max(maxErr, e);
    }

    const N = cfg.batch;
    const x = tf.randomNormal([N, d + 1], 0, 1, 'float32', 1);
    const once = async () => { const y = f(x); await y.data(); y.dispose(); };
    // The plain-JS backend takes long per pass: one warmup pass and one timed are enough.
    const slow = backend === 'cpu';
    for (let i = 0; i < (slow ? 1 : cfg.warmup); i++) await once();
    let best = Infinity, total = 0, reps = 0;
    const minReps = slow ? 1 : cfg.minReps;
    while (reps < minReps || total < cfg.budgetMs) {
      const t0 = performance.now();
      await once();
      const dt = performance.now() - t0;
      best = Math.min(best, dt); total += dt; reps++;
    }
    x.dispose();
    const r = {
      peer: 'browser-tfjs-' + backend, kernel, what: 'forward', hidden: model.hidden[0], threads, batch: N, reps,
      best_ms: round3(best), mean_ms: round3(total / reps), evals_per_s: N / best * 1000,
      gflops: 2 * macs(model) * N / best / 1e6, max_err: maxErr,
    };
    bench.results.push(r);
    say(`${r.peer} H=${r.hidden}: best ${r.best_ms} ms, ${Math.round(r.evals_per_s)} evals/s (${reps} reps, check error ${maxErr.toPrecision(2)})`);
    return got;
  } finally {
    Ws.forEach((t) => t.dispose());
    Bs.forEach((t) => t.dispose());
  }
}

// ---- Go over Web Workers ----

// GoWorker speaks the worker's protocol: "model" loads a file, "run" integrates a batch
// and posts a "frame" per step, "error" reports a failed run.
class GoWorker {
  constructor(url) {
    this.runs = new Map(); // id → {steps, next, resolve, reject}
    this.models = new Map(); // name → {resolve, reject}
    this.broken = null;
    this.ready = new Promise((resolve) => { this.onReady = resolve; });
    this.w = new Worker(url);
    this.w.onmessage = (e) => this.message(e.data);
    this.w.onerror = (e) => this.fail(`worker: ${e.message || 'failed to load'}${e.filename ? ` (${e.filename}:${e.lineno})` : ''}`);
    this.w.onmessageerror = () => this.fail('worker: a message could not be decoded');
  }

  fail(msg) {
    this.broken = msg;
    for (const r of this.runs.values()) r.reject(new Error(msg));
    for (const m of this.models.values()) m.reject(new Error(msg));
    this.runs.clear();
    this.models.clear();
  }

  message(m) {
    switch (m && m.type) {
      case 'ready':
        this.onReady();
        break;
      case 'model': {
        const p = this.models.get(m.name);
        if (!p) break;
        this.models.delete(m.name);
        if (m.error) p.reject(new Error(`worker: model ${m.name}: ${m.error}`));
        else p.resolve();
        break;
      }
      case 'frame': {
        const r = this.runs.get(m.id);
        if (!r) break;
        if (m.step !== r.next) {
          this.runs.delete(m.id);
          r.reject(new Error(`worker: run ${m.id}: frame ${m.step} where ${r.next} was due`));
          break;
        }
        if (!(m.x instanceof Float32Array) || m.x.length !== r.len) {
          this.runs.delete(m.id);
          r.reject(new Error(`worker: run ${m.id}: frame ${m.step} holds ${m.x && m.x.length} values, want a Float32Array of ${r.len}`));
          break;
        }
        r.next++;
        if (m.step === r.steps) {
          this.runs.delete(m.id);
          r.resolve(m.x);
        }
        break;
      }
      case 'fatal': // worker.js could not start Go
        this.fail(`worker: ${m.error}`);
        break;
      case 'error': {
        const err = new Error(`worker: run ${m.id}: ${m.error}`);
        const r = this.runs.get(m.id);
        if (r) {
          this.runs.delete(m.id);
          r.reject(err);
        } else {
          this.fail(`worker: ${m.error}`);
        }
        break;
      }
    }
  }

  load(name, bytes) {
    if (this.broken) return Promise.reject(new Error(this.broken));
    const p = new Promise((resolve, reject) => this.models.set(name, { resolve, reject }));
    this.w.postMessage({ type: 'model', name, bytes: bytes.slice(0) });
    return p;
  }

  // run integrates x (transferred) and resolves with the final positions.
  run(id, model, method, steps, t0, t1, x) {
    if (this.broken) return Promise.reject(new Error(this.broken));
    const p = new Promise((resolve, reject) => this.runs.set(id, { steps, next: 1, len: x.length, resolve, reject }));
    this.w.postMessage({ type: 'run', id, model, method, steps, t0, t1, x }, [x.buffer]);
    return p;
  }

  terminate() {
    this.w.terminate();
    this.fail('worker terminated');
  }
}

let nextID = 1;

// workerURL is the worker of a build: worker.js?kernel=simd runs worker-simd.wasm.
const workerURL = (kernel) => (kernel === 'simd' ? 'worker.js?kernel=simd' : 'worker.js');
// kernelName is a build's kernel as make bench names it ("asm": the scalar wasm kernel).
const kernelName = (kernel) => (kernel === 'simd' ? 'simd' : 'asm');

// solve integrates x over the pool, in contiguous slices of rows, and returns the final
// positions in one array.
async function solve(pool, model, method, steps, t0, t1, x, dim) {
  const n = x.length / dim, W = pool.length;
  const parts = [];
  for (let i = 0; i < W; i++) {
    const a = Math.floor(i * n / W), b = Math.floor((i + 1) * n / W);
    parts.push({ a, p: pool[i].run(nextID++, model, method, steps, t0, t1, x.slice(a * dim, b * dim)) });
  }
  const done = await Promise.all(parts.map((q) => q.p));
  const out = new Float32Array(x.length);
  parts.forEach((q, i) => out.set(done[i], q.a * dim));
  return out;
}

function sameBits(a, b) {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (ua.length !== ub.length) return -2;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

// goWorkers boots W workers, checks them and times the end-to-end solve. ref holds, per
// hidden width, the final positions of the first worker count timed (for the bit-for-bit
// comparison).
async function goWorkers(model, file, noise, native, tfOut, W, kernel, ref, cfg) {
  const h = model.hidden[0], d = model.dim, name = `h${h}`, T = cfg.opTimeoutMs;
  const build = `${kernel === 'simd' ? 'SIMD' : 'scalar'} build`;
  const t0 = performance.now();
  const pool = [];
  try {
    for (let i = 0; i < W; i++) pool.push(new GoWorker(workerURL(kernel)));
    await timeout(Promise.all(pool.map((w) => Promise.all([w.ready, w.load(name, file)]))), T, `booting ${W} workers`);
    const boot = performance.now() - t0;

    // The network: one Euler step from check_t to 1 on the check batch, on every worker.
    const dt = 1 - model.check_t;
    const cx = Float32Array.from(model.check_x);
    let maxErr = 0;
    const checks = await timeout(Promise.all(pool.map((w) => w.run(nextID++, name, 'euler', 1, model.check_t, 1, cx.slice()))), T, 'euler check');
    for (let k = 0; k < W; k++) {
      const x1 = checks[k];
      for (let i = 0; i < x1.length; i++) {
        const v = (x1[i] - cx[i]) / dt;
        const vt = tfOut[i], vr = model.check_want[i];
        const et = Math.abs(v - vt) / (1 + Math.abs(vt)), er = Math.abs(v - vr) / (1 + Math.abs(vr));
        if (!(et <= cfg.tol && er <= cfg.tol))
          throw new Error(`go workers H=${h} W=${W} (${build}): check: worker ${k}, velocity ${i} is ${v}, TF.js ${vt}, reference ${vr} (errors ${et.toPrecision(3)}, ${er.toPrecision(3)} > ${cfg.tol})`);
        maxErr = Math.max(maxErr, et, er);
      }
    }

    // Warm up (V8 compiles wasm with its baseline compiler first, then the hot functions
    // with the optimising one): a short solve of the whole batch.
    await timeout(solve(pool, name, 'midpoint', 2, 0, 1, noise, d), T, 'warmup');

    // A solve at H=256 takes seconds with one worker: one timed repetition is enough there.
    const minReps = h > 128 ? 1 : cfg.minReps;
    let best = Infinity, total = 0, reps = 0;
    while (reps < minReps || total < cfg.budgetMs) {
      const s = performance.now();
      const out = await timeout(solve(pool, name, 'midpoint', cfg.steps, 0, 1, noise, d), T, `sampling with ${W} workers`);
      const dtMs = performance.now() - s;
      if (!ref[h]) {
        // Against the native sampler (same model, same noise, first rows).
        for (let i = 0; i < native.length; i++) {
          const e = Math.abs(out[i] - native[i]) / (1 + Math.abs(native[i]));
          if (!(e <= cfg.tol))
            throw new Error(`go workers H=${h} W=${W} (${build}): sample: value ${i} is ${out[i]}, native Go ${native[i]} (error ${e.toPrecision(3)} > ${cfg.tol})`);
          maxErr = Math.max(maxErr, e);
        }
        ref[h] = { what: `${W} workers, ${build}`, x: out };
      } else {
        const i = sameBits(out, ref[h].x);
        if (i !== -1)
          throw new Error(`go workers H=${h}: the sample with ${W} workers, ${build}, differs from ${ref[h].what}'s at value ${i} (${out[i]} vs ${ref[h].x[i]})`);
      }
      best = Math.min(best, dtMs); total += dtMs; reps++;
    }
    const evals = cfg.batch * 2 * cfg.steps; // midpoint: two network evaluations a step
    const r = {
      peer: 'browser-go-workers', kernel: kernelName(kernel), what: `sample${cfg.steps}-midpoint`, hidden: h, threads: W,
      batch: cfg.batch, reps, best_ms: round3(best), mean_ms: round3(total / reps), evals_per_s: evals / best * 1000,
      gflops: 2 * macs(model) * evals / best / 1e6, max_err: maxErr, boot_ms: round3(boot),
    };
    bench.results.push(r);
    say(`go over ${W} worker${W > 1 ? 's' : ''} (${build}) H=${h}: boot ${Math.round(boot)} ms, best ${r.best_ms} ms, ${Math.round(r.evals_per_s)} evals/s (${reps} reps, check error ${maxErr.toPrecision(2)})`);
  } finally {
    pool.forEach((w) => w.terminate());
  }
}

async function run(cfg) {
  bench.info = Object.assign(bench.info, {
    crossOriginIsolated: self.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer !== 'undefined',
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
  });
  say(`cross-origin isolated: ${bench.info.crossOriginIsolated}; SharedArrayBuffer: ${bench.info.sharedArrayBuffer}; hardwareConcurrency ${navigator.hardwareConcurrency}`);
  tf.wasm.setWasmPaths(new URL('tfjs/', location.href).href);
  const noise = new Float32Array(await (await fetchOK(cfg.models + 'noise.bin')).arrayBuffer());
  const ref = {};
  for (let round = 1; round <= cfg.rounds; round++) {
    for (const h of cfg.hidden) {
      say(`round ${round}/${cfg.rounds}, H=${h}`);
      const model = await (await fetchOK(`${cfg.models}h${h}.json`)).json();
      const file = await (await fetchOK(`${cfg.models}h${h}.safetensors`)).arrayBuffer();
      const native = new Float32Array(await (await fetchOK(`${cfg.models}h${h}.final.bin`)).arrayBuffer());
      if (noise.length !== cfg.batch * model.dim) throw new Error(`noise.bin holds ${noise.length} values, want ${cfg.batch}×${model.dim}`);
      const tfOut = await tfjsForward(model, 'wasm', cfg);
      if (cfg.tfjsCpuMaxHidden >= h) await tfjsForward(model, 'cpu', cfg);
      for (const W of cfg.workers) await goWorkers(model, file, noise, native, tfOut, W, 'simd', ref, cfg);
      for (const W of cfg.scalarWorkers) await goWorkers(model, file, noise, native, tfOut, W, 'scalar', ref, cfg);
    }
    if (cfg.explorer) await explorerFigure(cfg.explorer, noise, cfg);
  }
}

// explorerFigure times the explorer's job: the batch through the shipped model, steps
// midpoint steps from t = 0 to 1, over ex.workers workers of the SIMD build. The first
// solve's rows must match the native explorer worker's; every later one, its bits.
async function explorerFigure(ex, noise, cfg) {
  const W = ex.workers, T = cfg.opTimeoutMs, d = ex.dim, name = 'explorer';
  const file = await (await fetchOK(`${cfg.models}explorer.safetensors`)).arrayBuffer();
  const native = new Float32Array(await (await fetchOK(`${cfg.models}explorer.final.bin`)).arrayBuffer());
  const t0 = performance.now();
  const pool = [];
  try {
    for (let i = 0; i < W; i++) pool.push(new GoWorker(workerURL('simd')));
    await timeout(Promise.all(pool.map((w) => Promise.all([w.ready, w.load(name, file)]))), T, `booting ${W} workers for ${ex.name}`);
    const boot = performance.now() - t0;
    await timeout(solve(pool, name, 'midpoint', 2, 0, 1, noise, d), T, 'warmup');
    let best = Infinity, total = 0, reps = 0, first = null, maxErr = 0;
    while (reps < cfg.explorerReps || total < cfg.budgetMs) {
      const s = performance.now();
      const out = await timeout(solve(pool, name, 'midpoint', cfg.steps, 0, 1, noise, d), T, `${ex.name} over ${W} workers`);
      const dtMs = performance.now() - s;
      if (!first) {
        for (let i = 0; i < native.length; i++) {
          const e = Math.abs(out[i] - native[i]) / (1 + Math.abs(native[i]));
          if (!(e <= cfg.tol))
            throw new Error(`${ex.name} over ${W} workers: value ${i} is ${out[i]}, the native explorer worker's ${native[i]} (error ${e.toPrecision(3)} > ${cfg.tol})`);
          maxErr = Math.max(maxErr, e);
        }
        first = out;
      } else {
        const i = sameBits(out, first);
        if (i !== -1) throw new Error(`${ex.name} over ${W} workers: solve ${reps + 1} differs from the first at value ${i}`);
      }
      best = Math.min(best, dtMs); total += dtMs; reps++;
    }
    const evals = cfg.batch * 2 * cfg.steps;
    const r = {
      peer: 'browser-go-workers', kernel: 'simd', what: `explorer-sample${cfg.steps}-midpoint`, model: ex.name,
      hidden: ex.hidden[0], threads: W, batch: cfg.batch, reps, best_ms: round3(best), mean_ms: round3(total / reps),
      evals_per_s: evals / best * 1000, gflops: 2 * ex.macs * evals / best / 1e6, max_err: maxErr, boot_ms: round3(boot),
    };
    bench.results.push(r);
    say(`${ex.name}: ${cfg.batch} particles, ${cfg.steps} midpoint steps over ${W} workers (SIMD build): best ${r.best_ms} ms, mean ${r.mean_ms} ms (${reps} reps, boot ${Math.round(boot)} ms)`);
  } finally {
    pool.forEach((w) => w.terminate());
  }
}

document.addEventListener('DOMContentLoaded', () => {
  const st = document.getElementById('status');
  if (typeof tf === 'undefined' || !tf.wasm) {
    bench.state = 'error';
    bench.error = 'TF.js did not load (tfjs/tf-core.min.js, tf-backend-wasm.min.js)';
    st.textContent = bench.error;
    return;
  }
  st.textContent = 'ready: window.bench.start(cfg)';
  if (new URLSearchParams(location.search).get('auto') === '1') bench.start({});
});
