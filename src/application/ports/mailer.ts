export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /**
   * The same on every attempt to deliver one message (the outbox row id), so that a mailer can give every copy the
   * same Message-ID and a receiver can drop a copy sent again. Unset when the message is queued.
   */
  id?: string;
}

export interface Mailer {
  /**
   * Resolves once the message is delivered (accepted by the server). `signal` aborted: the attempt is given up
   * (its deadline passed); stop at once and leave nothing that could still deliver it (close the connection).
   */
  send(message: EmailMessage, signal?: AbortSignal): Promise<void>;
}
