import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Row of `processed_events`: `subscriber` processed the event `eventId` (de-duplication of deliveries). */
@Entity({ name: 'processed_events' })
@Index('processed_events_processed_at_idx', ['processedAt'])
export class ProcessedEventRecord {
  @PrimaryColumn({ type: 'text' })
  subscriber!: string;

  @PrimaryColumn({ type: 'text', name: 'event_id' })
  eventId!: string;

  @Column({ type: 'timestamptz', name: 'processed_at' })
  processedAt!: Date;
}
