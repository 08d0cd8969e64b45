export { setup, teardown } from './localstack';
