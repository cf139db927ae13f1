// Writes completions/{bash,zsh,fish} from `skiff completion <shell>`: generated, never hand-edited.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const files = { bash: 'completions/bash/skiff.bash', zsh: 'completions/zsh/_skiff', fish: 'completions/fish/skiff.fish' };
for (const [shell, file] of Object.entries(files)) {
  writeFileSync(file, execFileSync(process.execPath, ['dist/main.js', 'completion', shell]));
}
