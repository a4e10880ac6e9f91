export { RecordsModule } from './records.module.js';
export { RecordsService, MAX_USAGE_WINDOW_DAYS, type UsageQuery } from './records.service.js';
export { ReplyRecorder, DEFAULT_RECORDER_OPTIONS, RECORDER_OPTIONS, type RecorderOptions } from './reply-recorder.js';
export { RecordPruner } from './record-pruner.js';
export type { ReplyRecord, UsageFigures, UsageGroup, UsageGroupBy, UsageReport } from './reply-record.js';
