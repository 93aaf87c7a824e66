/** Deployment planning: deploy spec + cluster -> validated, per-node launch commands. Pure. */
export { deploySpecSchema, parseDeploySpec, DEPLOY_LANGUAGE, type DeploySpec, type GroupSpec, type GroupRole } from '../spec/deploy-spec';
export { planDeployment, planDeployCell, planParsedDeployCell, checkDeployCell, locateIssues, type Plan, type PlannedProcess, type PlannedInstance, type PlanAction, type LocatedIssue, type PlanCluster } from './planner';
export { validateDeployment, envNameIssues, type DeployIssue, type DeployRule, type PlanPolicy } from './validate';
export { planCommands, processShellLine } from './print';
export { lookupFlag, flagsFor, canonicalFlag, allFlags, scanArgs, describeFlag, closestFlag, SGLANG_CATALOG, NEWEST_KNOWN_VERSION, type FlagInfo, type FlagLookup, type FlagStatus, type EngineKind } from '../engines/catalog';
export { KNOWN_MODELS, routedExpertsFor } from '../spec/models';
export { parseVersion, compareVersions, type EngineVersion } from '../util/version';
