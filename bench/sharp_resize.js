// sharp baseline: resize every JPEG in a folder, 2 files in flight, 1 libvips thread each.
//
// Usage: node sharp_resize.js IN_DIR OUT_DIR [WIDTHxHEIGHT] [QUALITY] [IN_FLIGHT]
// sharp is loaded from $SHARP_DIR (default: $BATCHPROC_PEERS_DIR/sharp, else ../../peers/sharp
// next to this repository), where bench/install-peers.sh installs it.
// Concurrency: sharp.concurrency(1) gives each operation one libvips thread; IN_FLIGHT (2)
// operations run at once on libuv's pool, which run.py sizes with UV_THREADPOOL_SIZE=2.
'use strict';
const fs = require('fs');
const path = require('path');

function loadSharp() {
  const peers = process.env.BATCHPROC_PEERS_DIR || path.join(__dirname, '..', '..', 'peers');
  const dir = process.env.SHARP_DIR || path.join(peers, 'sharp');
  return require(require.resolve('sharp', { paths: [dir, __dirname] }));
}

async function main() {
  const [src, dst, size = '720x588', quality = '80', inFlight = '2'] = process.argv.slice(2);
  const [width, height] = size.split('x').map(Number);
  const sharp = loadSharp();
  sharp.concurrency(1);
  sharp.cache(false);
  fs.mkdirSync(dst, { recursive: true });
  const names = fs.readdirSync(src).filter((n) => /\.jpe?g$/i.test(n)).sort();
  let next = 0;
  async function worker() {
    while (next < names.length) {
      const name = names[next++];
      await sharp(path.join(src, name))
        .resize(width, height, { fit: 'inside', kernel: 'lanczos3' })
        .jpeg({ quality: Number(quality) })
        .toFile(path.join(dst, name));
    }
  }
  await Promise.all(Array.from({ length: Number(inFlight) }, worker));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
