using Dbuild.Registry.Configuration;
using Dbuild.Registry.Notifications;

namespace Dbuild.Registry.Tests.Notifications;

/// <summary>registry:2's <c>notifications.endpoints</c> keys: values, defaults, and errors that name the key.</summary>
public sealed class NotificationConfigTests : IDisposable
{
    private readonly Dbuild.Testing.TempDirectory _dir = new();
    private static readonly Dictionary<string, string> NoEnvironment = [];

    public void Dispose() => _dir.Dispose();

    private string Write(string yaml)
    {
        string path = _dir.Combine($"config-{Guid.NewGuid():N}.yml");
        File.WriteAllText(path, "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /data\n" + yaml);
        return path;
    }

    private RegistryOptions Load(string yaml, IReadOnlyDictionary<string, string>? environment = null)
    {
        var warnings = new List<string>();
        RegistryOptions options = RegistryConfigLoader.Load(Write(yaml), environment ?? NoEnvironment, "/unused", warnings.Add);
        Assert.Empty(warnings);
        return options;
    }

    [Fact]
    public void Load_EveryRegistry2EndpointKey_FillsTheEndpoint()
    {
        RegistryOptions options = Load("""
            notifications:
              endpoints:
                - name: alistener
                  disabled: false
                  url: https://my.listener.com/event
                  headers:
                    Authorization: [Bearer abc]
                    X-Many: [one, two]
                  timeout: 500ms
                  threshold: 5
                  backoff: 2s
                  ignoredmediatypes:
                    - application/octet-stream
                  ignore:
                    mediatypes:
                      - application/vnd.oci.image.config.v1+json
                    actions:
                      - pull
            """);
        NotificationEndpoint endpoint = Assert.Single(options.Notifications.Endpoints);
        Assert.Equal("alistener", endpoint.Name);
        Assert.False(endpoint.Disabled);
        Assert.Equal(new Uri("https://my.listener.com/event"), endpoint.Url);
        Assert.Equal(["Bearer abc"], endpoint.Headers["Authorization"]);
        Assert.Equal(["one", "two"], endpoint.Headers["X-Many"]);
        Assert.Equal(TimeSpan.FromMilliseconds(500), endpoint.Timeout);
        Assert.Equal(5, endpoint.Threshold);
        Assert.Equal(TimeSpan.FromSeconds(2), endpoint.Backoff);
        Assert.Equal(["application/octet-stream", "application/vnd.oci.image.config.v1+json"], endpoint.IgnoredMediaTypes);
        Assert.Equal(["pull"], endpoint.IgnoredActions);
        Assert.True(options.Notifications.Enabled);
    }

    [Fact]
    public void Load_OnlyNameAndUrl_TakesRegistry2Defaults()
    {
        NotificationEndpoint endpoint = Assert.Single(Load("notifications:\n  endpoints:\n    - name: a\n      url: http://127.0.0.1:9/\n").Notifications.Endpoints);
        Assert.Equal((TimeSpan.FromSeconds(1), 10, TimeSpan.FromSeconds(1)), (endpoint.Timeout, endpoint.Threshold, endpoint.Backoff));
        Assert.Empty(endpoint.Headers);
        Assert.Empty(endpoint.IgnoredActions);
    }

    [Fact]
    public void Load_DisabledEndpoint_IsKeptButNothingIsSent()
    {
        RegistryOptions options = Load("notifications:\n  endpoints:\n    - name: a\n      url: http://127.0.0.1:9/\n      disabled: true\n");
        Assert.True(Assert.Single(options.Notifications.Endpoints).Disabled);
        Assert.False(options.Notifications.Enabled);
        Assert.Empty(options.Notifications.Active);
    }

    [Fact]
    public void Load_EnvironmentVariable_ReplacesTheFileList()
    {
        RegistryOptions options = Load("notifications:\n  endpoints:\n    - name: a\n      url: http://127.0.0.1:9/\n",
            new Dictionary<string, string> { ["REGISTRY_NOTIFICATIONS_ENDPOINTS"] = "[{name: b, url: 'http://127.0.0.1:10/hook'}]" });
        Assert.Equal("b", Assert.Single(options.Notifications.Endpoints).Name);
    }

    [Fact]
    public void Wants_IgnoredActionOrMediaType_IsFiltered_DeleteWithoutMediaTypeIsNot()
    {
        var endpoint = new NotificationEndpoint
        {
            Name = "a", Url = new Uri("http://127.0.0.1:9/"), IgnoredActions = ["pull"], IgnoredMediaTypes = ["application/octet-stream"],
        };
        Assert.False(endpoint.Wants("pull", "application/vnd.oci.image.manifest.v1+json"));
        Assert.False(endpoint.Wants("push", "application/octet-stream"));
        Assert.True(endpoint.Wants("push", "application/vnd.oci.image.manifest.v1+json"));
        Assert.True(endpoint.Wants("delete", null));
    }

    [Theory]
    [InlineData("notifications:\n  endpoints:\n    - name: a\n", "notifications.endpoints[0].url")] // url missing
    [InlineData("notifications:\n  endpoints:\n    - url: http://h/\n", "notifications.endpoints[0].name")] // name missing
    [InlineData("notifications:\n  endpoints:\n    - name: a\n      url: ftp://h/\n", "notifications.endpoints[0].url")] // not http(s)
    [InlineData("notifications:\n  endpoints:\n    - name: a\n      url: http://h/\n    - name: a\n      url: http://h/\n", "notifications.endpoints[1].name")] // duplicate name: one queue each
    [InlineData("notifications:\n  endpoints:\n    - name: a\n      url: http://h/\n      timeout: soon\n", "notifications.endpoints[0].timeout")] // not a duration
    [InlineData("notifications:\n  endpoints:\n    - name: a\n      url: http://h/\n      backoff: 0s\n", "notifications.endpoints[0].backoff")] // not positive
    [InlineData("notifications:\n  endpoints:\n    - name: a\n      url: http://h/\n      threshold: -1\n", "notifications.endpoints[0].threshold")] // negative
    [InlineData("notifications:\n  endpoints:\n    - name: a\n      url: http://h/\n      ignore:\n        actions: [push, fetch]\n", "notifications.endpoints[0].ignore.actions")] // unknown action
    [InlineData("notifications:\n  endpoints:\n    - name: a\n      url: http://h/\n      headers: {X-A: {b: c}}\n", "notifications.endpoints[0].headers.X-A")] // a map, not values
    [InlineData("notifications:\n  endpoints:\n    - name: a\n      url: http://h/\n      retries: 3\n", "notifications.endpoints[0].retries")] // unknown key
    [InlineData("notifications:\n  endpoints:\n    - name: a\n      url: http://h/\n      disabled: maybe\n", "notifications.endpoints[0].disabled")] // not a boolean
    [InlineData("notifications:\n  endpoints:\n    name: a\n", "notifications.endpoints")] // a map, not a list
    public void Load_BadNotificationKey_StopsNamingTheKey(string yaml, string key)
    {
        var ex = Assert.Throws<RegistryConfigurationException>(() => RegistryConfigLoader.Load(Write(yaml), NoEnvironment, "/unused"));
        Assert.Equal(key, ex.Key);
        Assert.DoesNotContain('\n', ex.Message);
    }
}
