using System.Reflection;
using Microsoft.Extensions.Logging;

namespace OpsRobot.Tests;

/// <summary>
/// Operators filter and alert on a log's event id (docs name some, e.g. 1519 for an event the rules pass over): each
/// id must mean one thing across the whole program.
/// </summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void EveryLogMessage_HasAnEventIdOfItsOwn()
    {
        var assemblies = new[]
        {
            typeof(OpsRobot.Hosting.ServerHost).Assembly,
            typeof(OpsRobot.Core.Executions.ExecutionService).Assembly,
            typeof(OpsRobot.Chat.BuiltIn.BuiltInChat).Assembly,
            typeof(OpsRobot.Storage.Sqlite.SqliteDatabase).Assembly,
            typeof(OpsRobot.Runners.Http.HttpRunner).Assembly,
            typeof(OpsRobot.Integrations.Secrets.DatastoreSecretSource).Assembly,
        };
        var messages = assemblies
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .Select(x => (Id: x.Attribute!.EventId, Where: $"{x.Method.DeclaringType!.FullName}.{x.Method.Name}"))
            .ToList();

        messages.Count.ShouldBeGreaterThan(100, "the program's log messages were found");
        var shared = messages.GroupBy(m => m.Id).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Where))}").ToList();
        shared.ShouldBeEmpty();
    }
}
