using System.Text.Json.Nodes;
using OpsRobot.Core.Inquiries;
using OpsRobot.Storage.Sqlite;
using OpsRobot.Testing;

namespace OpsRobot.Storage.Tests.Sqlite;

/// <summary>Inquiries in a real SQLite file: round trip, compare-and-set closing and adoption, filters.</summary>
public sealed class SqliteInquiryStoreTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("opsrobot-inqstore");
    private readonly TestTimeProvider _time = new();
    private SqliteDatabase _database = null!;
    private SqliteInquiryStore _store = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir.Combine("data"));
        _database = SqliteTestDatabase.Create(_dir.Combine("data", "opsrobot.db"));
        await _database.MigrateAsync(_time, CancellationToken.None);
        _store = new SqliteInquiryStore(_database);
    }

    public async Task DisposeAsync()
    {
        await SqliteTestDatabase.ClosePoolAsync(_database);
        _dir.Dispose();
    }

    private Task<InquiryRecord> CreateAsync(long execution, long? parent, string hash = "h1") => _store.CreateAsync(new InquiryRecord
    {
        ExecutionId = execution,
        ParentId = parent,
        ParametersHash = hash,
        Question = "Ship it?",
        Schema = InquirySchema.Parse(JsonNode.Parse("""{"properties": {"version": {"type": "string", "enum": ["1", "2"]}}, "required": ["version"]}""")),
        Users = ["alice"],
        Roles = ["ops"],
        Platform = "web",
        RoomId = "3",
        RoomName = "ops",
        CreatedAt = _time.GetUtcNow(),
        ExpiresAt = _time.GetUtcNow().AddMinutes(30),
    }, CancellationToken.None);

    [Fact]
    public async Task Create_ThenGet_RoundTripsEveryField()
    {
        var created = await CreateAsync(10, 9);

        var read = (await _store.GetAsync(created.Id, CancellationToken.None)).ShouldNotBeNull();

        read.Status.ShouldBe(InquiryStatuses.Pending);
        read.ExecutionId.ShouldBe(10);
        read.ParentId.ShouldBe(9);
        read.Users.ShouldBe(["alice"]);
        read.Roles.ShouldBe(["ops"]);
        read.RoomName.ShouldBe("ops");
        read.ExpiresAt.ShouldBe(_time.GetUtcNow().AddMinutes(30));
        read.Schema.ToJson().ToJsonString().ShouldBe(created.Schema.ToJson().ToJsonString());
        read.IsApproval.ShouldBeFalse();
    }

    [Fact]
    public async Task Get_Repeated_ParsesTheStoredSchemaOnce()
    {
        // A waiting ask is read every two seconds; its schema, fixed once stored, is not parsed again at each read.
        var created = await CreateAsync(10, 9);

        var first = (await _store.GetAsync(created.Id, CancellationToken.None)).ShouldNotBeNull();
        var second = (await _store.GetAsync(created.Id, CancellationToken.None)).ShouldNotBeNull();

        second.Schema.ShouldBeSameAs(first.Schema);
        second.Schema.Fields.Count.ShouldBe(created.Schema.Fields.Count);
    }

    [Fact]
    public async Task Close_OnlyThePendingOneCloses_TheSecondAnswerLoses()
    {
        var inquiry = await CreateAsync(10, 9);

        var first = await _store.CloseAsync(inquiry.Id, InquiryStatuses.Responded, new JsonObject { ["version"] = "1" }, "alice", _time.GetUtcNow(), CancellationToken.None);
        var second = await _store.CloseAsync(inquiry.Id, InquiryStatuses.Denied, new JsonObject { ["approved"] = false }, "bob", _time.GetUtcNow(), CancellationToken.None);

        first.ShouldBeTrue();
        second.ShouldBeFalse();
        var read = (await _store.GetAsync(inquiry.Id, CancellationToken.None))!;
        read.Status.ShouldBe(InquiryStatuses.Responded);
        read.RespondedBy.ShouldBe("alice");
        read.Response!.ToJsonString().ShouldBe("""{"version":"1"}""");
        Should.Throw<ArgumentOutOfRangeException>(() => _store.CloseAsync(inquiry.Id, InquiryStatuses.Pending, null, null, _time.GetUtcNow(), CancellationToken.None));
    }

    [Fact]
    public async Task Adopt_MovesTheInquiryToTheNewAsk_OnlyFromTheExecutionItHad()
    {
        var inquiry = await CreateAsync(10, 9);
        await CreateAsync(11, 9, hash: "other");

        (await _store.FindByParentAsync(9, "h1", CancellationToken.None)).ShouldHaveSingleItem().Id.ShouldBe(inquiry.Id);
        (await _store.AdoptAsync(inquiry.Id, 10, 20, CancellationToken.None)).ShouldBeTrue();
        (await _store.AdoptAsync(inquiry.Id, 10, 21, CancellationToken.None)).ShouldBeFalse();
        (await _store.GetAsync(inquiry.Id, CancellationToken.None))!.ExecutionId.ShouldBe(20);
    }

    [Fact]
    public async Task List_FiltersByStatus_NewestFirst()
    {
        var a = await CreateAsync(1, null);
        var b = await CreateAsync(2, null);
        var c = await CreateAsync(3, null);
        await _store.CloseAsync(b.Id, InquiryStatuses.Expired, null, null, _time.GetUtcNow(), CancellationToken.None);

        (await _store.ListAsync(new InquiryQuery(), CancellationToken.None)).Select(i => i.Id).ShouldBe([c.Id, b.Id, a.Id]);
        (await _store.ListAsync(new InquiryQuery { Status = InquiryStatuses.Pending }, CancellationToken.None)).Select(i => i.Id).ShouldBe([c.Id, a.Id]);
        (await _store.ListAsync(new InquiryQuery { Limit = 1 }, CancellationToken.None)).Select(i => i.Id).ShouldBe([c.Id]);
    }
}
