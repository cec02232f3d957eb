import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { helmTemplateSet, parseHelmYaml, TemplateError, TemplateSet } from '../../src/helm/template/index.js';
import { OcMirrorError } from '../../src/errors.js';

/** Renders one template text with a fresh Helm set. */
function render(text: string, data: unknown = {}): string {
  const set = helmTemplateSet();
  set.add('t', text);
  return set.execute('t', data);
}

function renderError(text: string, data: unknown = {}): TemplateError {
  try {
    render(text, data);
  } catch (err) {
    assert.ok(err instanceof TemplateError, `expected a TemplateError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(text)} to fail`);
}

type Case = [name: string, template: string, data: unknown, expected: string];

function table(cases: Case[]): void {
  for (const [name, template, data, expected] of cases) {
    it(name, () => assert.equal(render(template, data), expected));
  }
}

describe('text/template language', () => {
  table([
    ['text passes through', 'plain text\n', {}, 'plain text\n'],
    ['fields of maps', '{{ .a.b }}-{{ .c }}', { a: { b: 'x' }, c: 'y' }, 'x-y'],
    ['missing keys print nothing (Helm drops <no value>)', '[{{ .nope }}][{{ .a.nope }}]', { a: {} }, '[][]'],
    ['nil values print nothing', '[{{ .a }}]', { a: null }, '[]'],
    ['comments', 'a{{/* a comment */}}b{{- /* trimmed */ -}} c', {}, 'abc'],
    ['trim markers', 'a  {{- "b" -}}  \n c', {}, 'abc'],
    ['a dash without space is a negative number', '{{-3}}', {}, '-3'],
    ['integers', '{{ 3 }} {{ -7 }} {{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 0b101 }} {{ 1_000 }}', {}, '3 -7 31 15 15 5 1000'],
    ['floats', '{{ 1.5 }} {{ 3.0 }} {{ 1e3 }} {{ .5 }}', {}, '1.5 3 1000 0.5'],
    ['chars', "{{ 'a' }} {{ '\\n' }}", {}, '97 10'],
    ['strings with escapes and raw strings', '{{ "a\\tb\\u00e9\\x41" }}|{{ `raw\\n` }}', {}, 'a\tbéA|raw\\n'],
    ['booleans and nil comparisons', '{{ true }} {{ false }} {{ eq nil nil }}', {}, 'true false true'],
    ['values numbers are float64 and print like Go', '{{ .n }} {{ .f }} {{ .big }} {{ .small }}', { n: 3, f: 2.5, big: 1000000, small: 0.00001 }, '3 2.5 1e+06 1e-05'],
    ['bigints are Go ints', '{{ .n }} {{ kindOf .n }}', { n: 1000000n }, '1000000 int'],
    ['if / else if / else', '{{ if .a }}A{{ else if .b }}B{{ else }}C{{ end }}', { b: 'x' }, 'B'],
    ['if with declarations', '{{ if $x := .a }}{{ $x }}{{ end }}', { a: 'v' }, 'v'],
    ['truthiness', '{{ if "" }}1{{ end }}{{ if 0 }}2{{ end }}{{ if .m }}3{{ end }}{{ if .l }}4{{ end }}{{ if .z }}5{{ end }}{{ if "x" }}6{{ end }}', { m: {}, l: [], z: 0 }, '6'],
    ['with and else with', '{{ with .a }}{{ . }}{{ else with .b }}b={{ . }}{{ else }}none{{ end }}', { b: 2 }, 'b=2'],
    ['with else', '{{ with .a }}{{ . }}{{ else }}none{{ end }}', {}, 'none'],
    ['range over a list with index', '{{ range $i, $v := .l }}{{ $i }}={{ $v }};{{ end }}', { l: ['a', 'b'] }, '0=a;1=b;'],
    ['range over a map is sorted by key', '{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}', { m: { b: 2, a: 1, c: 3 } }, 'a=1;b=2;c=3;'],
    ['range sets dot', '{{ range .l }}<{{ .name }}>{{ end }}', { l: [{ name: 'x' }, { name: 'y' }] }, '<x><y>'],
    ['range over an integer', '{{ range 3 }}{{ . }}{{ end }}', {}, '012'],
    ['range else', '{{ range .l }}x{{ else }}empty{{ end }}', { l: [] }, 'empty'],
    ['break and continue', '{{ range .l }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}', { l: [1, 2, 3, 4, 5] }, '13'],
    ['variables: declare, assign, $ root', '{{ $x := "a" }}{{ range .l }}{{ $x = . }}{{ end }}{{ $x }} {{ with .m }}{{ $.top }}{{ end }}', { l: [1, 2], m: { k: 1 }, top: 'T' }, '2 T'],
    ['variables are scoped to their block', '{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}', {}, '21'],
    ['pipelines pass the last argument', '{{ "b" | printf "%s-%s" "a" }}', {}, 'a-b'],
    ['parenthesised pipelines and fields on them', '{{ (index .l 1).name }} {{ (len (list 1 2 3)) }}', { l: [{}, { name: 'n' }] }, 'n 3'],
    ['define and template', '{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" "v" }}{{ template "x" }}', {}, '[v][]'],
    ['block defines and executes', '{{ block "b" .v }}<{{ . }}>{{ end }}', { v: 1 }, '<1>'],
    ['and/or return the deciding value', '{{ and 1 "x" 0 }} {{ and 1 "x" }} {{ or 0 "" "z" }} {{ or 0 "" }}', {}, '0 x z '],
    ['and short-circuits', '{{ and false (fail "not evaluated") }}', {}, 'false'],
    ['not and len', '{{ not 0 }} {{ len "héllo" }} {{ len .m }}', { m: { a: 1, b: 2 } }, 'true 6 2'],
    ['index into maps, lists and nested', '{{ index .m "k" }} {{ index .l 1 }} {{ index .n "a" 0 }} [{{ index .m "none" }}]', { m: { k: 'v' }, l: [1, 2], n: { a: ['z'] } }, 'v 2 z []'],
    ['slice', '{{ slice "hello" 1 3 }} {{ slice .l 1 }}', { l: [1, 2, 3] }, 'el [2 3]'],
    ['comparisons', '{{ eq 1 2 1 }} {{ ne "a" "b" }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1.5 2 }} {{ eq .n 3 }}', { n: 3 }, 'true true true true true false true'],
    ['print and println', '{{ print 1 2 "a" "b" 3 }}|{{ println "x" 1 }}', {}, '1 2ab3|x 1\n'],
    ['printf verbs', '{{ printf "%s %d %v %q %t %x %X %o %b %c %5.2f %-4s| %04d %e %g %%" "s" 42 .l "q" true 255 "hi" 8 5 65 3.14159 "ab" 7 1234.5 0.000012 }}', { l: [1, 'a'] }, 's 42 [1 a] "q" true ff 6869 10 101 A  3.14 ab  | 0007 1.234500e+03 1.2e-05 %'],
    ['printf with wrong types like Go', '{{ printf "%d %s" .f 3 }}{{ printf "%s" }}', { f: 1.5 }, '%!d(float64=1.5) %!s(int=3)%!s(MISSING)'],
    ['maps and lists print like Go', '{{ .m }} {{ .l }}', { m: { b: [1, 2], a: 'x', c: null }, l: ['a', { k: 1 }] }, 'map[a:x b:[1 2] c:<nil>] [a map[k:1]]'],
    ['html, js, urlquery', '{{ html "<a href=\'x\'>&</a>" }} {{ js "it\'s \\"q\\" <b>" }} {{ urlquery "a b&c=d" }}', {}, "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt; it\\'s \\\"q\\\" \\u003Cb\\u003E a+b%26c%3Dd"],
    ['call', '{{ call .f 2 3 }}', { f: (a: unknown, b: unknown) => Number(a) + Number(b) }, '5'],
    ['struct methods', '{{ if .Capabilities.APIVersions.Has "apps/v1" }}yes{{ end }}', { Capabilities: { APIVersions: new (class { Has(v: string) { return v === 'apps/v1'; } })() } }, 'yes'],
  ]);
});

describe('Sprig and Helm functions', () => {
  table([
    ['default', '{{ default "d" .a }} {{ default "d" "" }} {{ .b | default "d" }} {{ default 5 0 }} {{ default "d" false }}', { b: 'v' }, 'd d v 5 d'],
    ['empty, coalesce, ternary', '{{ empty "" }} {{ empty .m }} {{ empty 1 }} {{ coalesce .a "" "c" }} {{ ternary "y" "n" true }} {{ ternary "y" "n" false }}', { m: {} }, 'true true false c y n'],
    ['quote, squote, cat', '{{ quote "a\\"b" 1 }} {{ squote "x" }} {{ cat "a" 1 nil "b" }} {{ .v | quote }}', { v: 1.5 }, '"a\\"b" "1" \'x\' a 1 b "1.5"'],
    ['trims', '[{{ trim "  a " }}] {{ trimAll "$" "$$5$" }} {{ trimPrefix "v" "v1.2" }} {{ trimSuffix ".yaml" "a.yaml" }}', {}, '[a] 5 1.2 a'],
    ['case', '{{ upper "ab" }} {{ lower "AB" }} {{ title "hello world" }} {{ untitle "Hello World" }} {{ snakecase "FirstName" }} {{ kebabcase "FirstName" }} {{ camelcase "http_server" }}', {}, 'AB ab Hello World hello world first_name first-name HttpServer'],
    ['trunc and substr', '{{ trunc 5 "hello world" }} {{ trunc -5 "hello world" }} {{ trunc 63 "short" }} {{ substr 0 5 "hello world" }} {{ substr 6 -1 "hello world" }}', {}, 'hello world short hello world'],
    ['replace, contains, prefixes', '{{ replace " " "-" "a b c" }} {{ contains "ell" "hello" }} {{ hasPrefix "he" "hello" }} {{ hasSuffix "lo" "hello" }}', {}, 'a-b-c true true true'],
    ['repeat, nospace, initials, abbrev, plural', '{{ repeat 3 "ab" }} {{ nospace "a b\\tc" }} {{ initials "Foo Bar" }} {{ abbrev 5 "hello world" }} {{ plural "one" "many" 2 }}', {}, 'ababab abc FB he... many'],
    ['indent and nindent', '{{ indent 2 "a\\nb" }}|{{ nindent 2 "a" }}', {}, '  a\n  b|\n  a'],
    ['wrap', '{{ wrap 10 "the quick brown fox" }}', {}, 'the quick\nbrown fox'],
    ['split, splitList, splitn, join', '{{ (split "," "a,b")._0 }}{{ $s := split "," "a,b" }}{{ $s._1 }} {{ splitList "," "a,b" }} {{ (splitn "," 2 "a,b,c")._1 }} {{ join "," (list "a" 1 nil) }}', {}, 'ab [a b] b,c a,1'],
    ['toString, toStrings, atoi, int, float64', '{{ toString 1.5 }} {{ toStrings (list 1 "a") }} {{ atoi "42" }} {{ int "12" }} {{ int 3.9 }} {{ int64 .n }} {{ float64 "1.5" }} {{ kindOf (int .n) }}', { n: 7 }, '1.5 [1 a] 42 12 3 7 1.5 int'],
    ['integer math', '{{ add 1 2 3 }} {{ add1 .n }} {{ sub 10 3 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ mod 7 3 }} {{ max 1 9 3 }} {{ min 4 2 8 }}', { n: 4 }, '6 5 7 24 3 1 9 2'],
    ['float math', '{{ addf 1.1 2.2 }} {{ subf 5 1.5 }} {{ mulf 1.5 2 }} {{ divf 1 4 }} {{ floor 1.7 }} {{ ceil 1.2 }} {{ round 3.14159 2 }} {{ maxf 1 2.5 }}', {}, '3.3 3.5 3 0.25 1 2 3.14 2.5'],
    ['until, untilStep, seq', '{{ until 3 }} {{ untilStep 0 10 4 }} {{ seq 3 }} {{ seq 5 3 }} {{ seq 0 2 6 }}', {}, '[0 1 2] [0 4 8] 1 2 3 5 4 3 0 2 4 6'],
    ['lists', '{{ list 1 2 }} {{ append (list 1) 2 }} {{ prepend (list 1) 0 }} {{ first (list 1 2) }} {{ last (list 1 2) }} {{ rest (list 1 2 3) }} {{ initial (list 1 2 3) }}', {}, '[1 2] [1 2] [0 1] 1 2 [2 3] [1 2]'],
    ['more lists', '{{ uniq (list 1 1 2) }} {{ without (list 1 2 3) 2 }} {{ has 2 (list 1 2) }} {{ compact (list 1 "" nil 2) }} {{ concat (list 1) (list 2 3) }} {{ reverse (list 1 2 3) }} {{ sortAlpha (list "b" "a" "C") }} {{ chunk 2 (list 1 2 3) }}', {}, '[1 2] [1 3] true [1 2] [1 2 3] [3 2 1] [C a b] [[1 2] [3]]'],
    ['mustAppend and list slice', '{{ mustAppend (list "a") "b" }} {{ slice (list 1 2 3 4) 1 3 }}', {}, '[a b] [2 3]'],
    ['dicts', '{{ $d := dict "a" 1 "b" 2 }}{{ get $d "a" }} [{{ get $d "z" }}] {{ hasKey $d "b" }} {{ keys $d | sortAlpha }} {{ values $d }} {{ $_ := set $d "c" 3 }}{{ $d.c }} {{ unset $d "a" | keys | sortAlpha }}', {}, '1 [] true [a b] [1 2] 3 [b c]'],
    ['pick, omit, pluck, dig', '{{ pick .m "a" "c" }} {{ omit .m "a" }} {{ pluck "a" .m (dict "a" 9) }} {{ dig "x" "y" "def" .n }} {{ dig "x" "z" "def" .n }}', { m: { a: 1, b: 2 }, n: { x: { y: 'deep' } } }, 'map[a:1] map[b:2] [1 9] deep def'],
    ['merge keeps the destination, mergeOverwrite replaces', '{{ merge (dict "a" 1 "e" "" "n" (dict "x" 1)) (dict "a" 2 "b" 3 "e" "f" "n" (dict "x" 2 "y" 2)) }} {{ mergeOverwrite (dict "a" 1 "k" true "n" (dict "x" 1)) (dict "a" 2 "k" false "n" (dict "y" 2)) }}', {}, 'map[a:1 b:3 e:f n:map[x:1 y:2]] map[a:2 k:false n:map[x:1 y:2]]'],
    ['deepCopy does not share', '{{ $a := dict "l" (list 1) }}{{ $b := deepCopy $a }}{{ $_ := set $b "l" (list 2) }}{{ $a.l }} {{ $b.l }}', {}, '[1] [2]'],
    ['types', '{{ kindOf "a" }} {{ kindOf 1 }} {{ kindOf 1.5 }} {{ kindOf .l }} {{ kindOf .m }} {{ kindOf nil }} {{ typeOf .m }} {{ typeOf .l }} {{ kindIs "float64" .n }} {{ typeIs "string" "x" }} {{ deepEqual (list 1 (dict "a" 1)) (list 1 (dict "a" 1)) }}', { l: [], m: {}, n: 80 }, 'string int float64 slice map invalid map[string]interface {} []interface {} true true true'],
    ['regular expressions', '{{ regexMatch "^[a-z]+$" "abc" }} {{ regexFind "[0-9]+" "a12b3" }} {{ regexFindAll "[0-9]" "a1b2c3" 2 }} {{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} {{ regexReplaceAllLiteral "a(x*)b" "-axb-" "$1" }} {{ regexSplit "z+" "pizza" -1 }} {{ regexMatch "(?i)^ABC$" "abc" }}', {}, 'true 12 [1 2] -W-xxW- -$1- [pi a] true'],
    ['regexReplaceAll names are as long as possible', '{{ regexReplaceAll "(?P<first>\\\\w+) (\\\\w+)" "hello world" "$2 ${first} $1x" }}', {}, 'world hello '],
    ['encodings and hashes', '{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }} {{ b32enc "hi" }} {{ b32dec "NBUQ====" }} {{ sha256sum "abc" | trunc 16 }} {{ sha1sum "abc" | trunc 8 }} {{ adler32sum "abc" }}', {}, 'aGVsbG8= hello NBUQ==== hi ba7816bf8f01cfea a9993e36 38600999'],
    ['paths', '{{ base "/a/b.txt" }} {{ dir "/a/b.txt" }} {{ ext "b.tar.gz" }} {{ clean "/a//b/../c/" }} {{ isAbs "/x" }}', {}, 'b.txt /a .gz /a/c true'],
    ['semver and semverCompare', '{{ (semver "1.2.3-beta+m").Major }}.{{ (semver "v1.2.3").Minor }} {{ (semver "1.2.3-beta").Prerelease }} {{ semverCompare ">=1.21-0" "v1.29.2-gke.100" }} {{ semverCompare "^1.2" "2.0.0" }} {{ semverCompare "~1.2 || 2.x" "2.5.0" }} {{ semverCompare "1.2 - 1.4.5" "1.3.0" }} {{ semverCompare ">1.0, <1.5" "1.5.0" }} {{ semverCompare ">=1.2.3" "1.3.0-rc.1" }}', {}, '1.2 beta true false true true false false'],
    ['dates in a zone', '{{ dateInZone "2006-01-02T15:04:05Z07:00 Mon Jan _2 03PM" .t "UTC" }} {{ date "2006" 0 | len }} {{ unixEpoch .t }} {{ duration 3725 }}', { t: new Date(Date.UTC(2024, 2, 5, 13, 4, 5)) }, '2024-03-05T13:04:05Z Tue Mar  5 01PM 4 1709643845 1h2m5s'],
    ['toJson, toPrettyJson, toRawJson', '{{ toJson .v }} {{ toRawJson .h }} {{ toJson .h }}|{{ toPrettyJson .v }}', { v: { b: [1, 'x'], a: null, c: 1.5 }, h: '<&>' }, '{"a":null,"b":[1,"x"],"c":1.5} "<&>" "\\u003c\\u0026\\u003e"|{\n  "a": null,\n  "b": [\n    1,\n    "x"\n  ],\n  "c": 1.5\n}'],
    ['fromJson and fromJsonArray', '{{ (fromJson "{\\"a\\": {\\"b\\": 2}}").a.b }} {{ fromJsonArray "[1, 2]" }} {{ (fromJson "[1]").Error }}', {}, '2 [1 2] json: cannot unmarshal array into Go value of type map[string]interface {}'],
    ['toYaml sorts keys, keeps sequences flush, drops the final newline', '{{ toYaml .v }}', { v: { z: 1, a: { list: ['x', { k: 'yes' }], empty: {}, none: null }, m: 'line1\nline2\n', t: 'true' } }, 'a:\n  empty: {}\n  list:\n  - x\n  - k: "yes"\n  none: null\nm: |\n  line1\n  line2\nt: "true"\nz: 1'],
    ['toYaml of scalars and lists', '{{ toYaml "s" }}|{{ toYaml .l }}|{{ toYaml nil }}', { l: [1, 2] }, 's|- 1\n- 2|null'],
    ['toYamlPretty indents sequences', '{{ toYamlPretty .v }}', { v: { l: ['a'] } }, 'l:\n  - a'],
    ['fromYaml and fromYamlArray (YAML 1.1, like Helm)', '{{ $m := fromYaml "a: yes\\nb: [1, 2]\\nc: 2024-01-01" }}{{ $m.a }} {{ $m.b }} {{ $m.c }} {{ fromYamlArray "- a\\n- b" }} {{ (fromYaml "- x").Error }}', {}, 'true [1 2] 2024-01-01 [a b] error unmarshaling JSON: json: cannot unmarshal array into Go value of type map[string]interface {}'],
    ['toToml and fromToml', '{{ toToml (dict "a" 1 "s" (dict "k" "v")) }}|{{ (fromToml "x = 1\\n[t]\\ny = \\"z\\"").t.y }}', {}, 'a = 1\n\n[s]\nk = "v"\n|z'],
    ['lookup answers an empty map offline', '{{ lookup "v1" "Secret" "ns" "name" | toJson }} {{ (lookup "v1" "Secret" "ns" "name").data }}', {}, '{} '],
    ['required passes present values (false and 0 count as present)', '{{ required "x" "v" }} {{ required "x" false }} {{ required "x" 0 }}', {}, 'v false 0'],
    ['include renders a define into a pipeline', '{{- define "lbl" }}app: {{ .name }}\ntier: web{{ end -}}\n{{ include "lbl" . | indent 4 }}|{{ include "lbl" . | upper | quote }}', { name: 'x' }, '    app: x\n    tier: web|"APP: X\\nTIER: WEB"'],
  ]);

  it('tpl renders a string with the given dot and sees the defines', () => {
    const set = helmTemplateSet();
    set.add('c/templates/_helpers.tpl', '{{ define "n" }}N{{ end }}');
    set.add('c/templates/cm.yaml', '{{ tpl .Values.t . }} {{ tpl "{{ .x }}" (dict "x" 1) }} {{ tpl "{{ define \\"local\\" }}L{{ end }}{{ include \\"local\\" . }}" . }}');
    assert.equal(set.execute('c/templates/cm.yaml', { Values: { t: '{{ .Values.name }}-{{ include "n" . }}', name: 'v' } }), 'v-N 1 L');
    // A define inside tpl text stays inside that text.
    assert.equal(set.has('local'), false);
  });

  it('include of an undefined template fails', () => {
    assert.match(renderError('{{ include "nope" . }}').message, /^t:1: executing "t" at <include "nope" \.>: error calling include: template "nope" not defined$/);
  });
});

describe('errors', () => {
  it('names the template and line of an undefined function at parse time', () => {
    const set = helmTemplateSet();
    assert.throws(
      () => set.add('mychart/templates/deployment.yaml', 'a\nb\n{{ foo .x }}'),
      (e: unknown) =>
        e instanceof TemplateError &&
        e instanceof OcMirrorError &&
        e.message === 'mychart/templates/deployment.yaml:3: function "foo" not defined' &&
        e.template === 'mychart/templates/deployment.yaml' &&
        e.line === 3,
    );
    assert.equal(set.has('mychart/templates/deployment.yaml'), false);
  });

  it('reports unclosed actions, unterminated blocks and stray ends', () => {
    assert.equal(renderError('x\n{{ .a ').message, 't:2: unclosed action');
    assert.equal(renderError('{{ if .a }}\nx\n').message, 't:3: unexpected EOF');
    assert.equal(renderError('{{ end }}').message, 't:1: unexpected {{end}}');
    assert.equal(renderError('{{ "abc }}').message, 't:1: unterminated quoted string');
    assert.equal(renderError('{{ $x }}').message, 't:1: undefined variable "$x"');
    assert.equal(renderError('{{ break }}').message, 't:1: {{break}} outside {{range}}');
    assert.equal(renderError('{{/* open').message, 't:1: unclosed comment');
    assert.equal(renderError('{{ .a | 3 }}').message, 't:1: non executable command in pipeline stage 2');
  });

  it('fails with the message of required and fail, at the line of the call', () => {
    const err = renderError('a: 1\nb: {{ required "image.tag is required" .Values.image.tag }}', { Values: { image: {} } });
    assert.equal(err.message, 't:2: image.tag is required');
    assert.equal(err.line, 2);
    assert.equal(renderError('{{ required "empty string" "" }}').message, 't:1: empty string');
    assert.equal(renderError('\n\n{{ fail "stop here" }}').message, 't:3: stop here');
  });

  it('keeps the message of required inside include and tpl', () => {
    const set = helmTemplateSet();
    set.add('c/templates/_helpers.tpl', '\n{{ define "img" }}{{ required "need repo" .repo }}{{ end }}');
    set.add('c/templates/a.yaml', '{{ include "img" (dict) }}');
    set.add('c/templates/b.yaml', '{{ tpl "{{ required \\"need x\\" .x }}" (dict) }}');
    assert.throws(() => set.execute('c/templates/a.yaml', {}), { message: 'c/templates/_helpers.tpl:2: need repo' });
    assert.throws(() => set.execute('c/templates/b.yaml', {}), { message: 'c/templates/b.yaml:1: need x' });
  });

  it('fails on fields of nil like Helm (missingkey=zero)', () => {
    assert.equal(
      renderError('\n{{ .Values.image.tag }}', { Values: {} }).message,
      't:2: executing "t" at <.Values.image.tag>: nil pointer evaluating interface {}.tag',
    );
    assert.equal(renderError('{{ .s.x }}', { s: 'str' }).message, 't:1: executing "t" at <.s.x>: can\'t evaluate field x in type string');
  });

  it('reports execution errors of functions and comparisons', () => {
    assert.equal(renderError('{{ index .l 5 }}', { l: [1] }).message, 't:1: executing "t" at <index .l 5>: error calling index: index out of range: 5');
    assert.equal(renderError('{{ eq "a" 1 }}').message, 't:1: executing "t" at <eq "a" 1>: error calling eq: incompatible types for comparison');
    assert.equal(renderError('{{ default }}').message, 't:1: executing "t" at <default>: wrong number of args for default: want at least 1 got 0');
    assert.equal(renderError('{{ tpl "{{ nope }}" . }}').message, 't:1: executing "t" at <tpl "{{ nope }}" .>: error calling tpl: "{{ nope }}": line 1: function "nope" not defined');
    assert.equal(renderError('{{ template "missing" }}').message, 't:1: executing "t" at <template "missing">: template "missing" not defined');
    assert.equal(renderError('{{ range 1.5 }}{{ end }}').message, 't:1: executing "t" at <1.5>: range can\'t iterate over 1.5');
  });

  it('stops runaway recursion', () => {
    const err = renderError('{{ define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}');
    assert.match(err.message, /exceeded maximum template depth/);
  });

  it('executing an unknown template is an error', () => {
    assert.throws(() => helmTemplateSet().execute('nope', {}), { message: 'nope:0: no template "nope" in the set' });
  });
});

describe('TemplateSet', () => {
  it('is plain text/template without Helm: <no value> stays and Sprig is absent', () => {
    const set = new TemplateSet({ shout: (s) => `${String(s)}!` });
    set.add('a', '{{ .missing }} {{ shout "hi" }} {{ "x" | shout }}');
    assert.equal(set.execute('a', {}), '<no value> hi! x!');
    assert.throws(() => set.add('b', '{{ default 1 2 }}'), { message: 'b:1: function "default" not defined' });
  });

  it('shares defines across files, and a later non-empty definition wins', () => {
    const set = helmTemplateSet();
    set.add('c/charts/sub/templates/_h.tpl', '{{ define "name" }}sub{{ end }}');
    set.add('c/templates/_h.tpl', '{{ define "name" }}parent{{ end }}{{ define "name2" }}two{{ end }}');
    set.add('c/templates/empty.tpl', '{{ define "name2" }} {{ end }}');
    set.add('c/templates/x.yaml', '{{ include "name" . }} {{ include "name2" . }}');
    assert.equal(set.has('name'), true);
    assert.equal(set.has('c/templates/x.yaml'), true);
    assert.equal(set.has('nope'), false);
    assert.equal(set.execute('c/templates/x.yaml', {}), 'parent two');
  });
});

describe('parseHelmYaml', () => {
  it('reads values as Helm does: YAML 1.1 booleans, merge keys, timestamps as strings, numbers as float64', () => {
    const v = parseHelmYaml("a: yes\nb: &b {x: 1}\nc:\n  <<: *b\n  z: 2\nd: 2024-01-01\ne: 3\n");
    assert.deepEqual(v, { a: true, b: { x: 1 }, c: { x: 1, z: 2 }, d: '2024-01-01', e: 3 });
    assert.equal(render('{{ .e }} {{ kindOf .e }}', v), '3 float64');
    assert.equal(parseHelmYaml(''), null);
    assert.throws(() => parseHelmYaml('a: [1'), /^Error: error converting YAML to JSON: /);
  });
});
