import { startLab } from './test/lab/lab';
import { labCluster } from './test/integration/ssh/helpers';
async function main() {
  const lab = await startLab({ nodes: 1 });
  const cluster = await labCluster(lab, ['node1']);
  const t0 = Date.now();
  try {
    await cluster.exec('node1', ['bash', '-c', 'echo e1 >&2; echo o1; sleep 1; echo e2 >&2; sleep 1'], {
      onStderr: (c) => console.log(Date.now() - t0, 'stderr', JSON.stringify(c)),
      onStdout: (c) => console.log(Date.now() - t0, 'out', JSON.stringify(c)),
    });
  } finally { await cluster.dispose(); await lab.stop(); }
}
main();
