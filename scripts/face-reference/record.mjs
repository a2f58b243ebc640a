// Records what @vladmandic/face-api (pure-JS tfjs CPU backend) finds in each image: boxes in
// source pixels, detector scores and the seven expression probabilities, with the package's
// defaults (TinyFaceDetector, inputSize 416, scoreThreshold 0.5), or with --input-size N the
// detector's input size N instead (a multiple of 32). The C port is tested against these files. Pixels come from the ffmpeg CLI (rgb24, same swscale flags as src/media/grab.c)
// so that both sides see the same bytes.
//
// usage: node record.mjs [--input-size N] MODEL_DIR OUT_DIR INPUT...   (see record.sh)
// INPUT is an image file, VIDEO@SECONDS for the frame shown at that time, or IMAGE@8k for the
// 8K UHD test picture: the image's top-left 1920x1080 repeated 4x4 per pixel (7680x4320).
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const { tf } = faceapi;

const args = process.argv.slice(2);
let inputSize = 416;
if (args[0] === '--input-size') {
  inputSize = Number(args[1]);
  args.splice(0, 2);
}
const [modelDir, outDir, ...images] = args;
if (!modelDir || !outDir || images.length === 0 || !(inputSize >= 32 && inputSize % 32 === 0)) {
  console.error('usage: node record.mjs [--input-size N] MODEL_DIR OUT_DIR IMAGE...');
  process.exit(2);
}

function probe(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries',
    'stream=width,height', '-of', 'csv=p=0', file]).toString().trim().split('\n')[0];
  const [w, h] = out.split(',').map(Number);
  return { w, h };
}

function decode(file, at) {
  const { w, h } = probe(file);
  const seek = at > 0 ? ['-ss', String(at)] : [];
  const raw = execFileSync('ffmpeg', ['-v', 'error', ...seek, '-i', file, '-frames:v', '1',
    '-sws_flags', 'bicubic+accurate_rnd+full_chroma_int', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
  { maxBuffer: 1 << 30 });
  if (raw.length !== w * h * 3) throw new Error(`${file}: got ${raw.length} bytes for ${w}x${h}`);
  return { w, h, raw };
}

function upscale8k({ w, h, raw }) {
  const cw = 1920, ch = 1080, W = cw * 4, H = ch * 4;
  if (w < cw || h < ch) throw new Error('8k source must be at least 1920x1080');
  const out = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    const src = Math.floor(y / 4) * w * 3;
    for (let x = 0; x < W; x++) {
      const s = src + Math.floor(x / 4) * 3, d = (y * W + x) * 3;
      out[d] = raw[s]; out[d + 1] = raw[s + 1]; out[d + 2] = raw[s + 2];
    }
  }
  return { w: W, h: H, raw: out };
}

function load(input) {
  const m = /^(.*)@(8k|[0-9.]+)$/.exec(input);
  const file = m ? m[1] : input;
  const source = path.basename(file);
  const stem = source.replace(/\.[^.]+$/, '');
  if (!m) return { key: stem, source, at: 0, pic: decode(file, 0) };
  if (m[2] === '8k') return { key: `${stem}-8k`, source, at: 0, pic: upscale8k(decode(file, 0)) };
  return { key: `${stem}-at-${m[2]}`, source, at: Number(m[2]), pic: decode(file, Number(m[2])) };
}

await tf.setBackend('cpu');
await tf.ready();
await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
await faceapi.nets.faceExpressionNet.loadFromDisk(modelDir);
const options = new faceapi.TinyFaceDetectorOptions({ inputSize });

fs.mkdirSync(outDir, { recursive: true });
for (const file of images) {
  const { key, source, at, pic } = load(file);
  const { w, h, raw } = pic;
  let sum = 0;
  for (let i = 0; i < raw.length; i++) sum += raw[i];
  const input = tf.tensor3d(new Uint8Array(raw), [h, w, 3], 'int32');
  const results = await faceapi.detectAllFaces(input, options).withFaceExpressions();
  input.dispose();
  const faces = results.map((r) => {
    const b = r.detection.box;
    const e = r.expressions;
    return {
      box: [b.x, b.y, b.width, b.height],
      score: r.detection.score,
      expressions: {
        neutral: e.neutral, happy: e.happy, sad: e.sad, angry: e.angry,
        fearful: e.fearful, disgusted: e.disgusted, surprised: e.surprised,
      },
    };
  });
  const record = {
    source, at, variant: /@8k$/.test(file) ? '8k' : 'none', width: w, height: h, rgb_sum: sum,
    package: `@vladmandic/face-api ${faceapi.version}`, backend: tf.getBackend(),
    input_size: options.inputSize, faces,
  };
  const out = path.join(outDir, `${key}.json`);
  fs.writeFileSync(out, JSON.stringify(record, null, 1) + '\n');
  console.error(`${key} (input ${options.inputSize}): ${faces.length} face(s)`);
}
