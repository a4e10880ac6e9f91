import type { SystemTools } from './agent.js';

/**
 * System tools as the API shows them and the database stores them: snake_case inside too
 * (`transfers[].agent_id`). One mapping each way, for the edge and the repository alike.
 */
export interface SystemToolsWire {
  readonly end_call?: object;
  readonly language_detection?: { readonly languages: readonly string[] };
  readonly transfer_to_agent?: { readonly transfers: readonly { readonly agent_id: string; readonly condition: string }[] };
  readonly transfer_to_number?: { readonly transfers: readonly { readonly number: string; readonly condition: string }[] };
  readonly skip_turn?: object;
  readonly voicemail_detection?: object;
}

export function systemToolsToWire(tools: SystemTools) {
  return {
    ...(tools.end_call === undefined ? {} : { end_call: {} }),
    ...(tools.language_detection === undefined ? {} : { language_detection: { languages: [...tools.language_detection.languages] } }),
    ...(tools.transfer_to_agent === undefined
      ? {}
      : {
          transfer_to_agent: { transfers: tools.transfer_to_agent.transfers.map((t) => ({ agent_id: t.agentId, condition: t.condition })) },
        }),
    ...(tools.transfer_to_number === undefined
      ? {}
      : {
          transfer_to_number: { transfers: tools.transfer_to_number.transfers.map((t) => ({ number: t.number, condition: t.condition })) },
        }),
    ...(tools.skip_turn === undefined ? {} : { skip_turn: {} }),
    ...(tools.voicemail_detection === undefined ? {} : { voicemail_detection: {} }),
  };
}

export function systemToolsFromWire(wire: SystemToolsWire): SystemTools {
  return {
    ...(wire.end_call === undefined ? {} : { end_call: {} }),
    ...(wire.language_detection === undefined ? {} : { language_detection: { languages: [...wire.language_detection.languages] } }),
    ...(wire.transfer_to_agent === undefined
      ? {}
      : {
          transfer_to_agent: { transfers: wire.transfer_to_agent.transfers.map((t) => ({ agentId: t.agent_id, condition: t.condition })) },
        }),
    ...(wire.transfer_to_number === undefined
      ? {}
      : {
          transfer_to_number: { transfers: wire.transfer_to_number.transfers.map((t) => ({ number: t.number, condition: t.condition })) },
        }),
    ...(wire.skip_turn === undefined ? {} : { skip_turn: {} }),
    ...(wire.voicemail_detection === undefined ? {} : { voicemail_detection: {} }),
  };
}
