// Every workflow the main worker runs.
export { investigateAlert } from './investigate-alert';
