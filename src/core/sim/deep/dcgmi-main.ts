/** Entry for running the fake dcgmi straight from source (`node --import tsx dcgmi-main.ts dmon ...`). */
import { dcgmiCommand } from './dcgmi';

void dcgmiCommand(process.argv.slice(2), process.stdout, process.stderr).then((code) => {
  process.exitCode = code;
});
