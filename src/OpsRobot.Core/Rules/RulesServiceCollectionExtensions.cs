using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Datastore;
using OpsRobot.Core.Events;
using OpsRobot.Core.Sensors;

namespace OpsRobot.Core.Rules;

/// <summary>Registration of events, rules, the datastore and the sensors.</summary>
public static class RulesServiceCollectionExtensions
{
    /// <summary>
    /// Adds what every process that opens the store needs: the event publisher, the rule evaluator, the datastore
    /// (with its key file from <see cref="DatastoreOptions.KeyFile"/>, an absolute path the host sets) and the
    /// <c>kv</c> chat command. No background work: see <see cref="AddOpsRobotRuleEngine"/>.
    /// </summary>
    public static IServiceCollection AddOpsRobotEventsAndDatastore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<DatastoreOptions>();
        services.AddOptions<RuleEngineOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<EventPublisher>();
        services.TryAddSingleton<RuleEvaluator>();
        services.TryAddSingleton<ISecretProtector>(sp => AesGcmSecretProtector.FromKeyFile(sp.GetRequiredService<IOptions<DatastoreOptions>>().Value.KeyFile, out _));
        services.TryAddSingleton<IDatastoreAccessPolicy, GrantDatastoreAccessPolicy>();
        services.TryAddSingleton<DatastoreService>();
        services.TryAddSingleton<IKeyValueViewSource>(sp => sp.GetRequiredService<DatastoreService>());
        services.TryAddSingleton<IRuleActionStarter, Access.RuleAccessStarter>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRobotCommand, KvCommand>());
        return services;
    }

    /// <summary>
    /// Adds the background work of the node that runs rules: the rule engine, the timers, the execution-finished
    /// sensor and every registered <see cref="ISensor"/>. Exactly one node should run these (leader election comes
    /// with the multi-node roles).
    /// </summary>
    public static IServiceCollection AddOpsRobotRuleEngine(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOpsRobotEventsAndDatastore();
        services.TryAddSingleton<RuleEngine>();
        services.TryAddSingleton<TimerSensor>();
        services.TryAddSingleton<ChatMessageSensor>();
        services.TryAddSingleton<IChatMessageObserver>(sp => sp.GetRequiredService<ChatMessageSensor>());
        services.AddHostedService(sp => sp.GetRequiredService<RuleEngine>());
        services.AddHostedService(sp => sp.GetRequiredService<TimerSensor>());
        services.AddHostedService(sp => sp.GetRequiredService<ChatMessageSensor>());
        services.AddHostedService<ExecutionFinishedSensor>();
        services.AddHostedService<SensorHost>();
        services.AddHostedService<DatastoreJanitor>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Status.IStatusSource, RulesStatusSource>());
        return services;
    }

    /// <summary>Registers a sensor for the sensor host to run.</summary>
    public static IServiceCollection AddSensor<T>(this IServiceCollection services)
        where T : class, ISensor
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISensor, T>());
        return services;
    }
}
