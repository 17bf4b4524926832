/** An error the user must read: announced by screen readers (role=alert), shown only when there is one. */
export function ErrorText({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p role="alert" className="status-error">
      {message}
    </p>
  );
}
