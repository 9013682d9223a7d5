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
 * Ink, cli-truncate, widest-line and wrap-ansi import string-width, whose
 * first non-ASCII measure costs ~125 ms of the first frame. Each importer
 * gets instead `narrowFirst` (dist/views/width.js) over the very string-width
 * it would have imported (wrap-ansi has its own, older one), which that
 * loads only when a string needs it: require() makes esbuild evaluate the
 * module on first call, not at start-up.
 */
const narrowStringWidth = {
	name: 'narrow-string-width',
	setup(build) {
		build.onResolve({filter: /^string-width$/}, async ({path: specifier, importer, resolveDir, kind, pluginData}) => {
			if (pluginData?.real) return undefined;
			const real = await build.resolve(specifier, {importer, resolveDir, kind, pluginData: {real: true}});
			if (real.errors.length > 0) return {errors: real.errors};
			return {path: path.relative(root, real.path), namespace: 'narrow-string-width'};
		});
		// The path is relative to the root (the bundle names a module by it), resolveDir is its directory.
		build.onLoad({filter: /.*/, namespace: 'narrow-string-width'}, ({path: real}) => ({
			contents: [
				`import {narrowFirst} from ${JSON.stringify(path.join(root, 'dist/views/width.js'))};`,
				// The strip-ansi that this string-width itself imports.
				`import stripAnsi from 'strip-ansi';`,
				`export default narrowFirst(() => require(${JSON.stringify(`./${path.basename(real)}`)}).default, stripAnsi);`,
			].join('\n'),
			resolveDir: path.join(root, path.dirname(real)),
		}));
	},
};

/**
 * Ink's output writes each row through ansi-tokenize's styledCharsToString;
 * it gets instead `sameStylesSkipped` (dist/cli/styled-rows.js) over
 * ansi-tokenize's own functions: the same rows, without diffing the styles
 * of neighbouring cells that share them.
 */
const sameStylesSkipped = {
	name: 'same-styles-skipped',
	setup(build) {
		build.onResolve({filter: /^@alcalzone\/ansi-tokenize$/}, async ({path: specifier, importer, resolveDir, kind, pluginData}) => {
			if (pluginData?.real || !/[/\\]ink[/\\]build[/\\]output\.js$/.test(importer)) return undefined;
			const real = await build.resolve(specifier, {importer, resolveDir, kind, pluginData: {real: true}});
			if (real.errors.length > 0) return {errors: real.errors};
			return {path: path.relative(root, real.path), namespace: 'same-styles-skipped'};
		});
		build.onLoad({filter: /.*/, namespace: 'same-styles-skipped'}, ({path: real}) => {
			const module = JSON.stringify(path.join(root, real));
			return {
				contents: [
					`import {ansiCodesToString, diffAnsiCodes} from ${module};`,
					`import {sameStylesSkipped} from ${JSON.stringify(path.join(root, 'dist/cli/styled-rows.js'))};`,
					`export * from ${module};`,
					'export const styledCharsToString = sameStylesSkipped(ansiCodesToString, diffAnsiCodes);',
				].join('\n'),
				resolveDir: root,
			};
		});
	},
};

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
	plugins: [narrowStringWidth, sameStylesSkipped, yogaWithoutFetch],
	logLevel: 'warning',
	// The bench sets NODE_ENV itself for its runs under tsx; bundled, define has made it production already.
	logOverride: bench ? {'assign-to-define': 'silent'} : {},
});
