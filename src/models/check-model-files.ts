import type { ConfigProblem } from "../config/config-error";
import type { ModelConfig } from "../config/schema";
import { draftVocabMismatch } from "./draft-vocab-mismatch";
import { ModelHeaderError, readModelHeader, type ModelHeader } from "./read-model-header";

/** A model file as `config check` reports it: the header's facts without the vocabulary itself. */
export type ModelFileFacts = Omit<ModelHeader, "tokens">;

export interface ModelFileReport {
  id: string;
  path: string;
  /** Null when the file could not be read as GGUF (its problem says why). */
  header: ModelFileFacts | null;
  draft?: { path: string; header: ModelFileFacts | null; vocabMatches: boolean | null };
}

export interface ModelFileCheck {
  models: ModelFileReport[];
  /** Empty when every file exists, is GGUF, and every draft shares its target's vocabulary. */
  problems: ConfigProblem[];
}

/**
 * Checks what the schema cannot: that each `[[models]]` path and draft path is a readable GGUF
 * file, and that a draft's vocabulary matches its target's (else every drafted request fails in
 * llama.cpp). `source` names the config file in the problems.
 */
export async function checkModelFiles(models: readonly ModelConfig[], source: string): Promise<ModelFileCheck> {
  // A draft shared by several models is read once.
  const headers = new Map<string, Promise<ModelHeader | ModelHeaderError>>();
  const read = (path: string) => {
    let header = headers.get(path);
    if (header == null) {
      header = readModelHeader(path).catch((error: unknown) => {
        if (error instanceof ModelHeaderError) return error;
        throw error;
      });
      headers.set(path, header);
    }
    return header;
  };
  const problems: ConfigProblem[] = [];
  const reports: ModelFileReport[] = [];
  for (const [index, model] of models.entries()) {
    const target = await read(model.path);
    if (target instanceof ModelHeaderError) problems.push({ source, key: `models[${index}].path`, expected: "a GGUF model file", got: `${target.problem} (${model.path})` });
    const report: ModelFileReport = { id: model.id, path: model.path, header: factsOf(target) };
    // speculative = "none" or "lookup" never loads the draft: its file is not this model's concern.
    if (model.draft != null && (model.speculative === "auto" || model.speculative === "draft")) {
      const draft = await read(model.draft.path);
      let vocabMatches: boolean | null = null;
      if (draft instanceof ModelHeaderError) {
        problems.push({ source, key: `models[${index}].draft.path`, expected: "a GGUF model file", got: `${draft.problem} (${model.draft.path})` });
      } else if (!(target instanceof ModelHeaderError)) {
        const mismatch = draftVocabMismatch(target, draft);
        vocabMatches = mismatch == null;
        if (mismatch != null)
          problems.push({
            source,
            key: `models[${index}].draft.path`,
            expected: `a draft with the vocabulary of model '${model.id}' (${target.vocabSize} tokens, hash ${target.vocabHash})`,
            got: `${draft.vocabSize} tokens, hash ${draft.vocabHash}: ${mismatch}`,
          });
      }
      report.draft = { path: model.draft.path, header: factsOf(draft), vocabMatches };
    }
    reports.push(report);
  }
  return { models: reports, problems };
}

function factsOf(header: ModelHeader | ModelHeaderError): ModelFileFacts | null {
  if (header instanceof ModelHeaderError) return null;
  const { tokens: _tokens, ...facts } = header;
  return facts;
}
