using System.Text.Json.Nodes;
using OpsRobot.Core.Actions;

namespace OpsRobot.Runners;

/// <summary>The results every runner hands back when it cannot or need not run anything.</summary>
internal static class RunnerResults
{
    /// <summary>A run that failed before (or instead of) doing its work; the sentence is for people.</summary>
    public static RunnerResult Failed(string error) =>
        new(RunnerOutcome.Failed, new JsonObject { ["error"] = error }, null, error);

    public static RunnerResult CanceledBeforeStart() =>
        new(RunnerOutcome.Canceled, null, null, "Canceled before it started.");
}
