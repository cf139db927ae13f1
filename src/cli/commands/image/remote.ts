// skiff manifest inspect LIST|REF / skiff search TERM
import { Command } from 'commander';
import { collect, openEngineFor, parseBool } from '../../engine.js';
import { parseFormat, printJson, printTable, printTemplate } from '../../output/print.js';

interface RemoteFlags {
  tlsVerify?: boolean;
  creds?: string;
  authfile?: string;
}

const remoteFlags = (cmd: Command): Command =>
  cmd
    .option('--tls-verify [bool]', 'require HTTPS and verify certificates', parseBool)
    .option('--creds <user:password>', 'credentials for the registry')
    .option('--authfile <path>', 'auth file to read credentials from');

export const buildManifestInspect = (): Command =>
  remoteFlags(
    new Command('inspect')
      .description('Display the contents of a manifest list or image index: a local list, else what the registry has')
      .argument('<reference>'),
  ).action(async (reference: string, flags: RemoteFlags, cmd: Command) => {
    const manifests = await (await openEngineFor(cmd)).manifests();
    printJson(await manifests.inspect(reference, flags));
  });

export const buildSearch = (name = 'search'): Command =>
  remoteFlags(
    new Command(name)
      .description("Search a registry's catalog (REGISTRY/TERM, or TERM in the search registries)")
      .argument('<term>')
      .option('--limit <n>', 'at most this many results', (v) => Number(v), 25)
      .option('--list-tags', 'list the tags of the named repository')
      .option('--format <format>', 'json or a Go template such as {{.Name}}')
      .option('--no-trunc', 'do not truncate descriptions')
      .option(
        '-f, --filter <filter>',
        'stars=N, is-official=true|false, is-automated=true|false (a registry catalog has no stars and no official or automated images)',
        collect,
      )
      .option('--compatible', 'also show the STARS, OFFICIAL and AUTOMATED columns (Docker compatibility)'),
  ).action(
    async (
      term: string,
      flags: RemoteFlags & { limit: number; listTags?: boolean; format?: string; filter?: string[]; compatible?: boolean },
      cmd: Command,
    ) => {
      const engine = await openEngineFor(cmd);
      const format = parseFormat(flags.format);
      if (flags.listTags) {
        const { name, tags } = await engine.images.listTags(term, flags);
        if (format.kind === 'json') return printJson([{ Name: name, Tags: tags }]);
        if (format.kind === 'template')
          return printTemplate(
            format.template,
            tags.map((t) => ({ Name: name, Tag: t })),
          );
        return printTable(
          ['NAME', 'TAG'],
          tags.slice(0, flags.limit).map((t) => [name, t]),
        );
      }
      const results = (await engine.images.search(term, { ...flags, filters: flags.filter })).map((r) => ({
        Index: r.index,
        Name: r.name,
        Description: r.description,
        Stars: r.stars,
        Official: r.official ? '[OK]' : '',
        Automated: r.automated ? '[OK]' : '',
      }));
      if (format.kind === 'json') return printJson(results);
      if (format.kind === 'template') return printTemplate(format.template, results);
      if (flags.compatible)
        return printTable(
          ['NAME', 'DESCRIPTION', 'STARS', 'OFFICIAL', 'AUTOMATED'],
          results.map((r) => [r.Name, r.Description, String(r.Stars), r.Official, r.Automated]),
        );
      printTable(
        ['NAME', 'DESCRIPTION'],
        results.map((r) => [r.Name, r.Description]),
      );
    },
  );
