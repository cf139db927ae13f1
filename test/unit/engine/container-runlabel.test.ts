// container runlabel: a label's command made as Podman makes it (podman's generateRunlabelCommand).
import { describe, expect, it } from 'vitest';
import { labelCommand, splitCommandLine } from '../../../src/engine/container-runlabel.js';

describe('splitCommandLine', () => {
  it('splits as a shell does: quotes, escapes, comments', () => {
    expect(splitCommandLine(`a 'b c' "d \\"e\\"" f\\ g h#i # comment`)).toEqual(['a', 'b c', 'd "e"', 'f g', 'h#i']);
    expect(splitCommandLine("x''y")).toEqual(['xy']);
    expect(splitCommandLine('')).toEqual([]);
    expect(() => splitCommandLine("a 'b")).toThrow(/unclosed single quote/);
  });
});

describe('labelCommand', () => {
  const image = 'registry.example/app:1';
  const SKIFF = '/opt/skiff/bin/skiff';

  it('puts NAME and IMAGE in (whole words, $NAME, ${NAME}, =NAME) and means skiff by podman, docker and skiff', () => {
    const cmd = labelCommand('podman run --name NAME -e NAME=NAME -e IMAGE=IMAGE -e X=$NAME-${IMAGE} -l a=NAME IMAGE', [], image, 'app', '/work', SKIFF);
    expect(cmd.argv).toEqual([SKIFF, 'run', '--name', 'app', '-e', 'NAME=app', '-e', `IMAGE=${image}`, '-e', `X=app-${image}`, '-l', 'a=app', image]);
    expect(cmd.display).toBe(`skiff run --name app -e NAME=app -e IMAGE=${image} -e X=app-${image} -l a=app ${image}`);
    for (const program of ['docker', '/usr/bin/docker', 'skiff']) expect(labelCommand(`${program} ps`, [], image, 'app', '/', SKIFF).argv[0]).toBe(SKIFF);
    // NAME inside a word is left alone, as Podman leaves it.
    expect(labelCommand('echo MYNAME xIMAGE', [], image, 'app', '/', SKIFF).argv).toEqual(['echo', 'MYNAME', 'xIMAGE']);
  });

  it('appends the arguments, expands $PWD (and empties other variables) word by word', () => {
    const cmd = labelCommand("sh -c 'echo $PWD ${HOME}x $OPT1'", ['one two', 'three'], image, 'app', '/my dir', SKIFF);
    expect(cmd.argv).toEqual(['sh', '-c', 'echo /my dir x ', 'one', 'two', 'three']);
  });

  it('resolves a path command against the directory, and refuses one that is not there', () => {
    expect(labelCommand('/bin/sh -c true', [], image, 'app', '/', SKIFF).argv[0]).toBe('/bin/sh');
    expect(() => labelCommand('./nosuch-script arg', [], image, 'app', '/tmp', SKIFF)).toThrow("the label's command /tmp/nosuch-script does not exist");
    expect(() => labelCommand('   ', [], image, 'app', '/', SKIFF)).toThrow('the label holds no command');
  });
});
