// The browser training benchmark: in one page, one after the other (so that neither
// takes the other's CPU),
//
//   - the pure-Go trainer (package gotrain) in a Web Worker of the SIMD build
//     (worker.js?kernel=simd → worker-simd.wasm), sent a job of kind "train" exactly as the
//     explorer's Your data mode sends it: conditional flow matching on the OT path, the
//     points standardised, batches of cfg.batch, AdamW (weight decay 0, so Adam) with
//     linear warmup and cosine decay, gradient clipping at 1, EMA 0.999, an MLP of
//     cfg.hidden with SiLU on [x, t]. The worker reports its steps, loss and training
//     time, and every cfg.snapshotMs a model file of the EMA weights, which the page keeps
//     (base64) for the driver to score: the seconds to reach 1.3× the i.i.d. W2 floor.
//   - a TF.js 4.22 wasm-backend loop of the same network (PyTorch's nn.Linear
//     initialisation), batch, data draw (x1 from the points, x0 ~ N(0, I), t ~ U[0, 1],
//     x_t = t·x1 + (1 − t)·x0, target x1 − x0), loss (mean squared error), schedule, global
//     norm clipping, Adam and EMA, reading the loss back every 50 steps.
//
// Each side's figure is steps per second of training: the worker's own clock for Go
// (what the explorer shows), performance.now() around the loop for TF.js, after
// cfg.warmupSteps untimed steps. Results go to window.trainBench.results; the snapshots
// to window.trainBench.snapshots.
'use strict';

const trainBench = (window.trainBench = {
  state: 'idle', // idle, running, done, error
  results: [],
  snapshots: [], // {step, seconds, loss, file (base64)}
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
  steps: 3000, // Go's training steps (the schedule's length)
  tfjsSteps: 1000, // TF.js's timed steps (its schedule is cfg.steps long too)
  warmupSteps: 20, // TF.js: untimed steps first
  hidden: [64, 64, 64],
  batch: 256,
  lr: 1e-2,
  warmup: 300,
  coupling: 'independent', // the TF.js loop has no OT solver: both use independent pairs
  snapshotMs: 500,
  seed: 1,
  timeoutMs: 900000,
};

function say(s) {
  trainBench.log.push(s);
  console.log(s);
  const el = document.getElementById('log');
  if (el) el.textContent += s + '\n';
}

function base64(buf) {
  const u8 = new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < u8.length; i += 8192) s += String.fromCharCode.apply(null, u8.subarray(i, i + 8192));
  return btoa(s);
}

// goTrain runs the training job in a worker of the SIMD build until its last step.
function goTrain(points, cfg) {
  return new Promise((resolve, reject) => {
    const w = new Worker('worker.js?kernel=simd');
    const t0 = performance.now();
    let posted = 0;
    const timer = setTimeout(() => { w.terminate(); reject(new Error('the Go worker did not finish in time')); }, cfg.timeoutMs);
    w.onerror = (e) => { clearTimeout(timer); reject(new Error('the Go worker failed: ' + (e.message || e))); };
    w.onmessage = (e) => {
      const m = e.data;
      if (m.type === 'ready') {
        const spec = { name: 'moons', source: 'bench', points, dim: 2, coupling: cfg.coupling, hidden: cfg.hidden, steps: cfg.steps,
          batch: cfg.batch, lr: cfg.lr, warmup: cfg.warmup, seed: cfg.seed, snapshotMs: cfg.snapshotMs };
        posted = performance.now();
        trainBench.info.goBootMs = posted - t0;
        w.postMessage({ type: 'run', id: 1, kind: 'train', steps: cfg.steps, train: JSON.stringify(spec) });
        return;
      }
      if (m.type === 'error' || m.type === 'fatal') {
        clearTimeout(timer);
        w.terminate();
        reject(new Error('the Go worker: ' + m.error));
        return;
      }
      if (m.type !== 'frame') return;
      if (m.file) trainBench.snapshots.push({ step: m.step, seconds: m.seconds, loss: m.loss, file: base64(m.file) });
      if (m.step % 500 < 10 && m.file) say(`go: step ${m.step}, loss ${m.loss.toFixed(4)}, ${m.seconds.toFixed(1)} s`);
      if (m.step >= cfg.steps && m.file) {
        clearTimeout(timer);
        w.terminate();
        resolve({ steps: m.step, seconds: m.seconds, wallMs: performance.now() - posted, loss: m.loss });
      }
    };
  });
}

// lrAt is recipe.Schedule: linear warmup over cfg.warmup steps, then cosine decay to 0.
function lrAt(s, cfg) {
  if (s < cfg.warmup) return cfg.lr * (s + 1) / cfg.warmup;
  const n = cfg.steps - cfg.warmup;
  if (n <= 1) return cfg.lr;
  return cfg.lr * 0.5 * (1 + Math.cos(Math.PI * (s - cfg.warmup) / (n - 1)));
}

// registerGradients registers the gradients the loop needs: the bundles of tfjs-core
// carry the gradient machinery but not the ops' gradients (the full @tensorflow/tfjs
// package registers them), so the few on the path from the weights to the loss are
// written here, as tfjs-core's own gradients/*.js define them.
function registerGradients() {
  const name = (k, fallback) => (typeof tf[k] === 'string' ? tf[k] : fallback);
  // sumTo reduces a broadcast gradient to shape.
  const sumTo = (dy, shape) => {
    let g = dy;
    while (g.rank > shape.length) g = tf.sum(g, 0);
    shape.forEach((d, i) => { if (d === 1 && g.shape[i] !== 1) g = tf.sum(g, i, true); });
    return tf.reshape(g, shape);
  };
  const grads = [
    { kernelName: name('BatchMatMul', 'BatchMatMul'), inputsToSave: ['a', 'b'],
      gradFunc: (dy, [a, b]) => ({ a: () => tf.matMul(dy, b, false, true), b: () => tf.matMul(a, dy, true, false) }) },
    { kernelName: name('Add', 'Add'), inputsToSave: ['a', 'b'],
      gradFunc: (dy, [a, b]) => ({ a: () => sumTo(dy, a.shape), b: () => sumTo(dy, b.shape) }) },
    { kernelName: name('Sub', 'Sub'), inputsToSave: ['a', 'b'],
      gradFunc: (dy, [a, b]) => ({ a: () => sumTo(dy, a.shape), b: () => sumTo(tf.neg(dy), b.shape) }) },
    { kernelName: name('Multiply', 'Multiply'), inputsToSave: ['a', 'b'],
      gradFunc: (dy, [a, b]) => ({ a: () => sumTo(tf.mul(dy, b), a.shape), b: () => sumTo(tf.mul(dy, a), b.shape) }) },
    { kernelName: name('Sigmoid', 'Sigmoid'), outputsToSave: [true],
      gradFunc: (dy, [y]) => ({ x: () => tf.mul(dy, tf.mul(y, tf.sub(1, y))) }) },
    { kernelName: name('Square', 'Square'), inputsToSave: ['x'],
      gradFunc: (dy, [x]) => ({ x: () => tf.mul(dy, tf.mul(x, 2)) }) },
    { kernelName: name('Mean', 'Mean'), inputsToSave: ['x'],
      gradFunc: (dy, [x]) => ({ x: () => tf.div(tf.mul(tf.onesLike(x), dy), x.size) }) },
  ];
  for (const g of grads) tf.registerGradient(g);
}

// tfjsTrain runs the same training loop with TF.js's wasm backend.
async function tfjsTrain(points, cfg) {
  if (!(await tf.setBackend('wasm'))) throw new Error('TF.js backend wasm did not initialise');
  await tf.ready();
  registerGradients();
  trainBench.info.tfjs = { version: tf.version_core, simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), threads: tf.wasm.getThreadsCount() };
  const n = points.length / 2;
  // Standardised, as the worker standardises them.
  const mean = [0, 0], sd = [0, 0];
  for (let i = 0; i < n; i++) { mean[0] += points[2 * i] / n; mean[1] += points[2 * i + 1] / n; }
  for (let i = 0; i < n; i++) { sd[0] += (points[2 * i] - mean[0]) ** 2 / n; sd[1] += (points[2 * i + 1] - mean[1]) ** 2 / n; }
  const z = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) { z[2 * i] = (points[2 * i] - mean[0]) / Math.sqrt(sd[0]); z[2 * i + 1] = (points[2 * i + 1] - mean[1]) / Math.sqrt(sd[1]); }
  const data = tf.tensor2d(z, [n, 2]);
  const dims = [3, ...cfg.hidden, 2];
  const vars = [], ema = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const k = 1 / Math.sqrt(dims[l]); // nn.Linear's U(−1/√in, 1/√in)
    vars.push(tf.variable(tf.randomUniform([dims[l], dims[l + 1]], -k, k, 'float32', cfg.seed + l)));
    vars.push(tf.variable(tf.randomUniform([dims[l + 1]], -k, k, 'float32', cfg.seed + 100 + l)));
  }
  for (const v of vars) ema.push(tf.variable(v.clone(), false));
  const opt = tf.train.adam(cfg.lr, 0.9, 0.999, 1e-8);
  const B = cfg.batch;
  const step = (s, readLoss) => {
    let loss = 0;
    tf.tidy(() => {
      const idx = tf.randomUniform([B], 0, n, 'int32');
      const x1 = tf.gather(data, idx);
      const x0 = tf.randomNormal([B, 2]);
      const t = tf.randomUniform([B, 1]);
      const xt = tf.add(tf.mul(t, x1), tf.mul(tf.sub(1, t), x0));
      const u = tf.sub(x1, x0);
      const { value, grads } = tf.variableGrads(() => {
        let h = tf.concat([xt, t], 1);
        for (let l = 0; l < vars.length; l += 2) {
          h = tf.add(tf.matMul(h, vars[l]), vars[l + 1]);
          if (l + 2 < vars.length) h = tf.mul(h, tf.sigmoid(h));
        }
        return tf.mean(tf.square(tf.sub(h, u)));
      }, vars);
      // Clip the global norm at 1.
      const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
      const scale = tf.minimum(1, tf.div(1, tf.add(norm, 1e-6)));
      const clipped = {};
      for (const k in grads) clipped[k] = tf.mul(grads[k], scale);
      opt.learningRate = lrAt(s, cfg);
      opt.applyGradients(clipped);
      const d = Math.min(0.999, (1 + s) / (10 + s)); // recipe.EMADecay's ramp
      for (let i = 0; i < vars.length; i++) ema[i].assign(tf.add(tf.mul(ema[i], d), tf.mul(vars[i], 1 - d)));
      if (readLoss) loss = value.dataSync()[0];
    });
    return loss;
  };
  for (let s = 0; s < cfg.warmupSteps; s++) step(s, false);
  const t0 = performance.now();
  let loss = 0;
  for (let s = cfg.warmupSteps; s < cfg.warmupSteps + cfg.tfjsSteps; s++) {
    const read = (s - cfg.warmupSteps) % 50 === 49 || s + 1 === cfg.warmupSteps + cfg.tfjsSteps;
    const l = step(s, read);
    if (read) loss = l;
    if ((s - cfg.warmupSteps) % 500 === 499) say(`tfjs: step ${s + 1}, loss ${loss.toFixed(4)}`);
  }
  const ms = performance.now() - t0;
  data.dispose();
  vars.forEach((v) => v.dispose());
  ema.forEach((v) => v.dispose());
  return { steps: cfg.tfjsSteps, seconds: ms / 1000, loss };
}

async function run(cfg) {
  const r = await fetch('moons.json');
  if (!r.ok) throw new Error('moons.json: HTTP ' + r.status);
  const points = await r.json();
  say(`${points.length / 2} moons points; MLP ${cfg.hidden.join('×')}, batch ${cfg.batch}, ${cfg.steps} steps`);
  const go = await goTrain(points, cfg);
  const goLine = { peer: 'browser-go-worker', kernel: 'simd', what: 'train', hidden: cfg.hidden, batch: cfg.batch, steps: go.steps,
    seconds: go.seconds, wall_s: go.wallMs / 1000, steps_per_s: go.steps / go.seconds, loss: go.loss };
  trainBench.results.push(goLine);
  say(`go: ${go.steps} steps in ${go.seconds.toFixed(2)} s: ${goLine.steps_per_s.toFixed(1)} steps/s`);
  tf.wasm.setWasmPaths(new URL('tfjs/', location.href).href);
  const tj = await tfjsTrain(points, cfg);
  const tfLine = { peer: 'browser-tfjs-wasm', kernel: `tfjs ${tf.version_core}`, what: 'train', hidden: cfg.hidden, batch: cfg.batch,
    steps: tj.steps, seconds: tj.seconds, steps_per_s: tj.steps / tj.seconds, loss: tj.loss };
  trainBench.results.push(tfLine);
  say(`tfjs: ${tj.steps} steps in ${tj.seconds.toFixed(2)} s: ${tfLine.steps_per_s.toFixed(1)} steps/s`);
}

if (/[?&]auto=1\b/.test(location.search)) trainBench.start();
