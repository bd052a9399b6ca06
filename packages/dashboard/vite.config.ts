import { defaultClientConditions, defineConfig } from 'vite'

/** The node whose API `vite` (the dev server) forwards to: `CAS_API=127.0.0.1:3001`. */
const api = `http://${process.env.CAS_API ?? '127.0.0.1:3001'}`

const jsx = { runtime: 'automatic', importSource: 'preact' } as const

// The node serves www/ from its API address: `/` is index.html, `/assets/*` the hashed files.
// Nothing is loaded from anywhere else at run time (no CDN, no fonts).
export default defineConfig({
  base: '/',
  publicDir: false,
  // Workspace packages are bundled from their sources, as the tests run them.
  resolve: { conditions: ['@cas/source', ...defaultClientConditions] },
  // JSX is Preact's, for the build and for the dev server's dependency scan alike.
  oxc: { jsx },
  optimizeDeps: { rolldownOptions: { transform: { jsx } } },
  build: {
    outDir: 'www',
    assetsDir: 'assets',
    // Every asset a file of its own: no data: URLs, so that a strict Content-Security-Policy holds.
    assetsInlineLimit: 0,
    emptyOutDir: true,
    target: 'es2022',
    // Every supported browser has modulepreload; the polyfill would only add code.
    modulePreload: { polyfill: false },
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/v1': {
        target: api,
        changeOrigin: true,
        // The node refuses a foreign Origin; through this proxy the page is same-origin in effect.
        configure: (proxy) => proxy.on('proxyReq', (request) => request.removeHeader('origin')),
      },
    },
  },
})
