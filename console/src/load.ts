// What every page does with a call: show that it runs, keep its error
// for the page to show, and send an ended session back to sign-in.
import { ref, type Ref } from 'vue';
import { ApiProblem, isApiProblem } from '@sdk/problem';

export interface Action {
  busy: Ref<boolean>;
  error: Ref<ApiProblem | null>;
  /** Runs fn; a failure goes into error (and resolves undefined). */
  run<T>(fn: () => Promise<T>): Promise<T | undefined>;
}

export function useAction(): Action {
  const busy = ref(false);
  const error = ref<ApiProblem | null>(null) as Ref<ApiProblem | null>;
  return {
    busy,
    error,
    async run<T>(fn: () => Promise<T>): Promise<T | undefined> {
      busy.value = true;
      error.value = null;
      try {
        return await fn();
      } catch (e) {
        error.value = isApiProblem(e) ? e : ApiProblem.unexpected(0, e instanceof Error ? e.message : String(e));
        return undefined;
      } finally {
        busy.value = false;
      }
    },
  };
}
