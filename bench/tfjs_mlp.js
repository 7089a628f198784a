// Time one forward pass of an MLP velocity network (x, t) -> v over a batch in TF.js 4.22,
// with the wasm backend (XNNPACK, SIMD, one thread) and the plain-JS cpu backend.
//
// Adapted from the project's peer script ../shared/bench/tfjs_mlp.js (same network, same
// ops: tf.matMul, tf.add, x·sigmoid(x); same timing: a forward pass plus reading the
// result back). Changes: the parameters come from a benchnet model file, so that every
// peer of `make bench` runs the same network; before timing, the outputs for the file's
// check batch must match its float64 reference (|got − want| ≤ 1e-4·(1 + |want|)); the
// fastest and the mean repetition are both reported, in benchnet.Result's JSON fields.
//
//   node tfjs_mlp.js --model ../build/bench/h64.json --backends wasm,cpu --batch 10000 --budget 2
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const fs = require('fs');

const argv = process.argv;
const arg = (name, def) => { const i = argv.indexOf('--' + name); return i > 0 ? argv[i + 1] : def; };
const N = Number(arg('batch', 10000));
const budgetMs = 1000 * Number(arg('budget', 2));
const minReps = Number(arg('min-reps', 3));
const warmup = Number(arg('warmup', 2));
const backends = arg('backends', 'wasm,cpu').split(',');
const model = JSON.parse(fs.readFileSync(arg('model'), 'utf8'));
const TOL = 1e-4;

async function bench(backend) {
  await tf.setBackend(backend); await tf.ready();
  const dims = [model.dim + 1, ...model.hidden, model.dim];
  const Ws = [], Bs = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    // benchnet stores W as [out][in]; tf.matMul(h, W) wants [in, out].
    Ws.push(tf.transpose(tf.tensor2d(model.weights[l], [dims[l + 1], dims[l]])));
    Bs.push(tf.tensor1d(model.biases[l]));
  }
  const f = (x) => tf.tidy(() => {
    let h = x;
    for (let i = 0; i < Ws.length; i++) { h = tf.add(tf.matMul(h, Ws[i]), Bs[i]); if (i + 1 < Ws.length) h = tf.mul(h, tf.sigmoid(h)); }
    return h;
  });

  // Check against the reference.
  const n = model.check_x.length / model.dim;
  const cin = new Float32Array(n * (model.dim + 1));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < model.dim; j++) cin[i * (model.dim + 1) + j] = model.check_x[i * model.dim + j];
    cin[i * (model.dim + 1) + model.dim] = model.check_t;
  }
  const cx = tf.tensor2d(cin, [n, model.dim + 1]);
  const cy = f(cx); const got = await cy.data(); cy.dispose(); cx.dispose();
  let maxErr = 0;
  for (let i = 0; i < got.length; i++) {
    const w = model.check_want[i];
    const e = Math.abs(got[i] - w) / (1 + Math.abs(w));
    if (!(e <= TOL)) throw new Error(`tfjs-${backend}: check: output ${i} is ${got[i]}, reference ${w} (error ${e})`);
    maxErr = Math.max(maxErr, e);
  }

  const x = tf.randomNormal([N, model.dim + 1]);
  const once = async () => { const y = f(x); await y.data(); y.dispose(); };
  for (let w = 0; w < warmup; w++) await once();
  // Wall time, and process CPU time (see benchnet.CPUTime).
  const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  let best = Infinity, bestCPU = Infinity, total = 0, reps = 0;
  while (reps < minReps || total < budgetMs) {
    const t0 = performance.now(), c0 = cpuMs(); await once(); const d = performance.now() - t0, c = cpuMs() - c0;
    best = Math.min(best, d); bestCPU = Math.min(bestCPU, c); total += d; reps++;
  }
  x.dispose(); Ws.forEach(t => t.dispose()); Bs.forEach(t => t.dispose());
  let macs = 0; for (let i = 0; i + 1 < dims.length; i++) macs += dims[i] * dims[i + 1];
  console.log(JSON.stringify({ peer: 'tfjs-' + backend, kernel: 'tfjs ' + tf.version_core, what: 'forward',
    hidden: model.hidden[0], threads: 1, batch: N, reps, best_ms: +best.toFixed(3), mean_ms: +(total / reps).toFixed(3), best_cpu_ms: +bestCPU.toFixed(3),
    evals_per_s: N / best * 1000, gflops: 2 * macs * N / best / 1e6, max_err: maxErr }));
}

(async () => {
  if (wasm.setThreadsCount) wasm.setThreadsCount(1);
  for (const b of backends) await bench(b);
})().catch(e => { console.error(e.message || e); process.exit(1); });
