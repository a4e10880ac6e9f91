// Writes the embedded cluster template (libs/db/src/cluster-template.ts) unless it exists, so that
// a new data folder starts without running initdb; `npm install` runs it. Not writing it is no
// install failure: a new folder then runs initdb, as it would without one.
import { clusterTemplatePath, writeClusterTemplate } from '#agentplane/db';

const path = clusterTemplatePath();
try {
  if (await writeClusterTemplate(path)) process.stderr.write(`agentplane: wrote the embedded cluster template ${path}\n`);
} catch (error) {
  process.stderr.write(`agentplane: no embedded cluster template (a new data folder will run initdb): ${(error as Error).message}\n`);
}
