// Stateful operations (updateStateByKey, mapWithState) are installed here; see StateDStream and MapWithStateDStream.
export {};
