// bpmnlint in the browser: the rules saygac uses, resolved from the bpmnlint package directly
// (what bpmnlint-pack-config would generate for a .bpmnlintrc). Warnings for style, errors for
// structure; the server's checks (engine/checks.py) stay the authority at deploy.
import startEventRequired from "bpmnlint/rules/start-event-required";
import endEventRequired from "bpmnlint/rules/end-event-required";
import noDisconnected from "bpmnlint/rules/no-disconnected";
import noImplicitSplit from "bpmnlint/rules/no-implicit-split";
import noDuplicateSequenceFlows from "bpmnlint/rules/no-duplicate-sequence-flows";
import labelRequired from "bpmnlint/rules/label-required";
import superfluousGateway from "bpmnlint/rules/superfluous-gateway";
import singleBlankStartEvent from "bpmnlint/rules/single-blank-start-event";

const rules = {
  "start-event-required": startEventRequired,
  "end-event-required": endEventRequired,
  "no-disconnected": noDisconnected,
  "no-implicit-split": noImplicitSplit,
  "no-duplicate-sequence-flows": noDuplicateSequenceFlows,
  "label-required": labelRequired,
  "superfluous-gateway": superfluousGateway,
  "single-blank-start-event": singleBlankStartEvent,
};

export const lintConfig = {
  config: {
    rules: {
      "start-event-required": "error",
      "end-event-required": "error",
      "no-disconnected": "error",
      "no-implicit-split": "error",
      "no-duplicate-sequence-flows": "error",
      "label-required": "warn",
      "superfluous-gateway": "warn",
      "single-blank-start-event": "error",
    },
  },
  resolver: {
    resolveRule(pkg, name) {
      const rule = rules[name];
      if (!rule) throw new Error(`unknown lint rule ${pkg}/${name}`);
      return rule;
    },
    resolveConfig() { return null; },
  },
};

// bpmn-js's translate service with the page's translations (data-lint-texts, from the server's
// catalogues): the lint messages and the lint plugin's labels; other texts stay as bpmn-js has them.
export function translateModule(texts) {
  const translate = (template, replacements) => (texts[template] || template)
    .replace(/{([^}]+)}/g, (whole, key) => (replacements && key in replacements ? replacements[key] : whole));
  return { translate: ["value", translate] };
}
