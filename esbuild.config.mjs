// Builds dist/heaptop.js, the shipped bin: one bundle of the compiled
// TypeScript (dist/, from tsc) and its dependencies, because loading them as
// separate modules cost half the start-up CPU. `npm run bundle` runs this.
// `node esbuild.config.mjs bench` builds dist/bench/frames.js instead: the
// frames benchmark (test/bench/frames.tsx) bundled the same way, so frames
// of the code heaptop ships can be timed, not only of the TypeScript under
// tsx. Both need `npm run build` first (the plugins take dist/ modules).
import fs from 'node:fs/promises';
import path from 'node:path';
import * as esbuild from 'esbuild';

const root = import.meta.dirname;

/**
 * An esbuild plugin that gives importers of `specifier` (those whose path
 * matches `importer`, if given) a stand-in module instead: `source(real)`
 * returns its source, with `real` the module the import resolves to (its
 * absolute path; bare imports in the stand-in resolve from its directory).
 */
function standIn(name, specifier, source, importer = /./) {
	return {
		name,
		setup(build) {
			build.onResolve({filter: specifier}, async ({path: imported, importer: from, resolveDir, kind, pluginData}) => {
				if (pluginData?.real || !importer.test(from)) return undefined;
				const real = await build.resolve(imported, {importer: from, resolveDir, kind, pluginData: {real: true}});
				if (real.errors.length > 0) return {errors: real.errors};
				// The path is relative to the root: the bundle names a module by it.
				return {path: path.relative(root, real.path), namespace: name};
			});
			build.onLoad({filter: /.*/, namespace: name}, ({path: real}) => ({
				contents: source(path.join(root, real)),
				resolveDir: path.join(root, path.dirname(real)),
			}));
		},
	};
}

/**
 * Ink, cli-truncate, widest-line and wrap-ansi import string-width, whose
 * first non-ASCII measure costs ~125 ms of the first frame. Each importer
 * gets instead `narrowFirst` (dist/views/width.js) over the very string-width
 * it would have imported (wrap-ansi has its own, older one), which that
 * loads only when a string needs it: require() makes esbuild evaluate the
 * module on first call, not at start-up.
 */
const narrowStringWidth = standIn('narrow-string-width', /^string-width$/, real => [
	`import {narrowFirst} from ${JSON.stringify(path.join(root, 'dist/views/width.js'))};`,
	// The strip-ansi that this string-width itself imports.
	`import stripAnsi from 'strip-ansi';`,
	`export default narrowFirst(() => require(${JSON.stringify(real)}).default, stripAnsi);`,
].join('\n'));

/**
 * slice-ansi builds an Intl.Segmenter when it is loaded, and so does
 * ansi-tokenize's tokenize: the first costs ~12 ms of start-up CPU (ICU's
 * data). Ink calls slice-ansi only to clip text wider than an
 * overflow-hidden box, and cli-truncate only for text wider than its box:
 * heaptop fits its rows to the width, so it is loaded on first call, if
 * ever. tokenize gets `asciiFirst` (dist/cli/graphemes.js) instead of its
 * segmenter, which builds one only for text that is not plain ASCII.
 */
const sliceAnsiOnFirstCall = standIn('slice-ansi-on-first-call', /^slice-ansi$/, real =>
	`export default (...args) => require(${JSON.stringify(real)}).default(...args);`,
);
const asciiGraphemesFirst = {
	name: 'ascii-graphemes-first',
	setup(build) {
		build.onLoad({filter: /[/\\]@alcalzone[/\\]ansi-tokenize[/\\]build[/\\]tokenize\.js$/}, async ({path: file}) => {
			const eager = 'const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });';
			const source = await fs.readFile(file, 'utf8');
			if (!source.includes(eager)) return {errors: [{text: `${file} no longer makes its segmenter as this plugin expects: update the plugin`}]};
			const graphemes = JSON.stringify(path.join(root, 'dist/cli/graphemes.js'));
			const lazy = `import {asciiFirst} from ${graphemes}; const segmenter = asciiFirst(() => new Intl.Segmenter(undefined, { granularity: "grapheme" }));`;
			return {contents: source.replace(eager, lazy), loader: 'js'};
		});
	},
};

/**
 * Ink's output writes each row through ansi-tokenize's styledCharsToString;
 * it gets instead `sameStylesSkipped` (dist/cli/styled-rows.js) over
 * ansi-tokenize's own functions: the same rows, without diffing the styles
 * of neighbouring cells that share them.
 */
const sameStylesSkipped = standIn('same-styles-skipped', /^@alcalzone\/ansi-tokenize$/, real => [
	`import {ansiCodesToString, diffAnsiCodes} from ${JSON.stringify(real)};`,
	`import {sameStylesSkipped} from ${JSON.stringify(path.join(root, 'dist/cli/styled-rows.js'))};`,
	`export * from ${JSON.stringify(real)};`,
	'export const styledCharsToString = sameStylesSkipped(ansiCodesToString, diffAnsiCodes);',
].join('\n'), /[/\\]ink[/\\]build[/\\]output\.js$/);

/**
 * yoga (Ink's layout) fetches its WASM, inlined as a base64 data: URL, with
 * fetch() when there is one: on Node that first loads undici, Node's HTTP
 * client, ~60 ms of start-up CPU. Without fetch in its scope, yoga's loader
 * decodes the same bytes with atob and instantiates them the same way.
 */
const yogaWithoutFetch = {
	name: 'yoga-without-fetch',
	setup(build) {
		build.onLoad({filter: /[/\\]yoga-layout[/\\]dist[/\\]binaries[/\\]yoga-wasm-base64-esm\.js$/}, async ({path: file}) => ({
			contents: `const fetch = undefined;\n${await fs.readFile(file, 'utf8')}`,
			loader: 'js',
		}));
	},
};

const bench = process.argv[2] === 'bench';
await esbuild.build({
	entryPoints: [path.join(root, bench ? 'test/bench/frames.tsx' : 'dist/bin/heaptop.js')],
	outfile: path.join(root, bench ? 'dist/bench/frames.js' : 'dist/heaptop.js'),
	bundle: true,
	platform: 'node',
	format: 'esm',
	target: 'node20',
	// React's and Ink's production builds.
	define: {'process.env.NODE_ENV': '"production"'},
	// Ink imports its React devtools only when DEV is set; they are not shipped.
	// grpc-js requires @grpc/proto-loader (with protobufjs, 200 KB of the
	// bundle) only to serve channelz or read ORCA load reports, which heaptop
	// never does: left out, it would be required from node_modules.
	external: ['./devtools.js', '@grpc/proto-loader'],
	// A third fewer bytes, and no comment left whose non-ASCII characters made
	// the whole source a two-byte string: decoding it takes 8 ms, not 20.
	// (Renaming too made V8's compile of it slower.) Names are kept for stacks (HEAPTOP_DEBUG=1); the linked
	// map, read only under NODE_OPTIONS=--enable-source-maps, places them in
	// the TypeScript.
	minifyWhitespace: true,
	sourcemap: 'linked',
	// Bundled CommonJS (grpc-js) requires Node's built-in modules.
	banner: {js: "import {createRequire as heaptopRequire} from 'node:module'; const require = heaptopRequire(import.meta.url);"},
	plugins: [narrowStringWidth, sliceAnsiOnFirstCall, asciiGraphemesFirst, sameStylesSkipped, yogaWithoutFetch],
	logLevel: 'warning',
	// The bench sets NODE_ENV itself for its runs under tsx; bundled, define has made it production already.
	logOverride: bench ? {'assign-to-define': 'silent'} : {},
});
