/** Something a collector wants the user to know (node lost nvidia-smi, metrics unreachable...). */
export interface TelemetryNotice {
  node?: string;
  endpoint?: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}
