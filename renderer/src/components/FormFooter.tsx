import { ErrorText } from './ErrorText';

/** The end of every form: submit, cancel, and the engine's refusal when there is one (nothing was saved). */
export function FormFooter({
  submit,
  busy = false,
  onCancel,
  error,
}: {
  submit: string;
  busy?: boolean;
  onCancel: () => void;
  error: string | null;
}) {
  return (
    <>
      <div className="actions">
        <button type="submit" disabled={busy}>
          {submit}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <ErrorText message={error} />
    </>
  );
}
