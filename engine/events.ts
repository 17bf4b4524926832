/** The engine's typed event bus; every transport forwards what is published here. */
import { EventEmitter } from 'node:events';
import type { EngineEvent, EventName, EventPayload } from './api/contract.js';

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Each open window / WebSocket adds one listener; do not warn at 10.
    this.emitter.setMaxListeners(0);
  }

  publish<K extends EventName>(event: K, payload: EventPayload<K>): void {
    this.emitter.emit('event', { event, payload } satisfies EngineEvent<K>);
  }

  subscribe(listener: (e: EngineEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
