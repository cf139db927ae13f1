// skiff systemd generate|check|install-generator: containers as systemd user services, from
// Podman's Quadlet files (~/.config/containers/systemd/NAME.container, .volume, .network).
import { Command } from 'commander';
import { build as buildCheck } from './check.js';
import { build as buildGenerate } from './generate.js';
import { build as buildInstallGenerator } from './install-generator.js';

export const build = (): Command =>
  new Command('systemd')
    .description('Run containers as systemd user services from Quadlet files (.container, .volume, .network)')
    .addCommand(buildGenerate())
    .addCommand(buildCheck())
    .addCommand(buildInstallGenerator());
