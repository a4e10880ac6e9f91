// The generated client names BodyInit, a DOM type that Node's lib types leave out; Node's fetch
// takes the same bodies under undici's name. Declared here, outside the generated folder, which
// `npm run client` empties and rewrites.
type BodyInit = import('undici-types').BodyInit;
