import nodemailer from 'nodemailer';

/** One message as the mail adapter sends it; `headers` carry ids receivers de-duplicate on. */
export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  html?: string | undefined;
  headers?: Record<string, string>;
}

export interface Mailer {
  /** False when no SMTP server is configured: callers queue no mail at all then. */
  readonly enabled: boolean;
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/** SMTP through nodemailer: one pooled transport per process, or a disabled mailer without a URL. */
export function createSmtpMailer(smtpUrl: string | undefined): Mailer {
  const transport = smtpUrl ? nodemailer.createTransport(smtpUrl) : undefined;
  return {
    enabled: transport !== undefined,
    async send(message) {
      if (!transport) throw new Error('SMTP_URL is not configured');
      await transport.sendMail(message);
    },
    close() {
      transport?.close();
    },
  };
}
