// `stats` rows from cgroup samples, in Podman's columns: CPU % over the last interval (since the
// start for the first sample), memory usage / limit, net and block I/O, PIDs, CPU time, average CPU %.
import type { CgroupSample } from '../cgroups/stats.js';
import type { ContainerRecord } from '../state/containers.js';
import { humanSize } from '../util/units.js';

export interface StatsRow {
  ID: string;
  /** The full id (Podman's ContainerID). */
  ContainerID: string;
  Name: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  NetIO: string;
  BlockIO: string;
  PIDs: string;
  CPU: string;
  AvgCPU: string;
  /** The raw numbers, for --format json. */
  raw: {
    cpu_percent: number;
    avg_cpu: number;
    cpu_time_ns: number;
    mem_usage: number;
    mem_limit: number;
    mem_percent: number;
    net_input: number;
    net_output: number;
    block_input: number;
    block_output: number;
    pids: number;
  };
}

const percent = (x: number): string => `${x.toFixed(2)}%`;

const duration = (usec: number): string => (usec >= 1e6 ? `${(usec / 1e6).toFixed(3)}s` : `${(usec / 1e3).toFixed(3)}ms`);

// `previous`: the same container's last sample (streaming), else CPU % is the average since it started.
export const statsRow = (record: ContainerRecord, startedAt: string, sample: CgroupSample, previous?: CgroupSample): StatsRow => {
  const sinceStart = Math.max(1, sample.at - Date.parse(startedAt)) * 1000;
  const avg = (sample.cpuUsec / sinceStart) * 100;
  const cpu = previous ? ((sample.cpuUsec - previous.cpuUsec) / Math.max(1, (sample.at - previous.at) * 1000)) * 100 : avg;
  const memPercent = sample.memLimit ? (sample.memUsage / sample.memLimit) * 100 : 0;
  return {
    ID: record.id.slice(0, 12),
    ContainerID: record.id,
    Name: record.name,
    CPUPerc: percent(cpu),
    MemUsage: `${humanSize(sample.memUsage)} / ${humanSize(sample.memLimit)}`,
    MemPerc: percent(memPercent),
    NetIO: `${humanSize(sample.netRx)} / ${humanSize(sample.netTx)}`,
    BlockIO: `${humanSize(sample.blockRead)} / ${humanSize(sample.blockWrite)}`,
    PIDs: String(sample.pids),
    CPU: duration(sample.cpuUsec),
    AvgCPU: percent(avg),
    raw: {
      cpu_percent: cpu,
      avg_cpu: avg,
      cpu_time_ns: sample.cpuUsec * 1000,
      mem_usage: sample.memUsage,
      mem_limit: sample.memLimit,
      mem_percent: memPercent,
      net_input: sample.netRx,
      net_output: sample.netTx,
      block_input: sample.blockRead,
      block_output: sample.blockWrite,
      pids: sample.pids,
    },
  };
};

export interface StatsSample {
  record: ContainerRecord;
  startedAt: string;
  sample: CgroupSample;
}

// One round of samples as rows, and the errors of the containers that have none; `previous` keeps
// each container's last sample (CPU % over the interval).
export const collectStats = (samples: (StatsSample | Error)[], previous: Map<string, CgroupSample>): { rows: StatsRow[]; errors: Error[] } => {
  const rows: StatsRow[] = [];
  const errors: Error[] = [];
  for (const s of samples) {
    if (s instanceof Error) {
      errors.push(s);
      continue;
    }
    rows.push(statsRow(s.record, s.startedAt, s.sample, previous.get(s.record.id)));
    previous.set(s.record.id, s.sample);
  }
  return { rows, errors };
};
