<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Atelier::DeviceBoardModel</name>
    <message>
        <source>%1 GiB</source>
        <translation>%1 GiB</translation>
    </message>
    <message>
        <source>%1 MiB</source>
        <translation>%1 MiB</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 小时 %2 分</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 分 %2 秒</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>ready to start</source>
        <translation>待启动</translation>
    </message>
    <message>
        <source>not used</source>
        <translation>未使用</translation>
    </message>
    <message>
        <source>starting</source>
        <translation>正在启动</translation>
    </message>
    <message>
        <source>loading the model</source>
        <translation>正在加载模型</translation>
    </message>
    <message>
        <source>idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source>rendering</source>
        <translation>正在渲染</translation>
    </message>
    <message>
        <source>stopping</source>
        <translation>正在停止</translation>
    </message>
    <message>
        <source>restarting: %1</source>
        <translation>正在重启：%1</translation>
    </message>
    <message>
        <source>disabled: %1</source>
        <translation>已停用：%1</translation>
    </message>
    <message>
        <source>off</source>
        <translation>已关闭</translation>
    </message>
    <message>
        <source>%1 it/s</source>
        <translation>%1 it/s</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Rendering</source>
        <translation>正在渲染</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>步数</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>显存/内存</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>图像</translation>
    </message>
    <message>
        <source>Left</source>
        <translation>剩余时间</translation>
    </message>
</context>
<context>
    <name>Atelier::GalleryPanel</name>
    <message numerus="yes">
        <source>%1: %n image(s) could not be read, e.g. %2</source>
        <translation>
            <numerusform>%1：%n 张图像无法读取，例如 %2</numerusform>
        </translation>
    </message>
    <message>
        <source>All models</source>
        <translation>所有模型</translation>
    </message>
    <message numerus="yes">
        <source>%n image(s)</source>
        <translation>
            <numerusform>%n 张图像</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Copied the prompt of %n image(s).</source>
        <translation>
            <numerusform>已复制 %n 张图像的提示词。</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Copied %n seed(s).</source>
        <translation>
            <numerusform>已复制 %n 个种子。</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Copied the parameters of %n image(s).</source>
        <translation>
            <numerusform>已复制 %n 张图像的参数。</numerusform>
        </translation>
    </message>
    <message>
        <source>Requeue with new seeds</source>
        <translation>使用新种子重新排队</translation>
    </message>
    <message>
        <source>&amp;Variations of each image:</source>
        <translation>每张图像的变体数(&amp;V)：</translation>
    </message>
    <message numerus="yes">
        <source>Moved %n image(s) to the trash. Undo with %1.</source>
        <translation>
            <numerusform>已将 %n 张图像移到回收站。按 %1 撤销。</numerusform>
        </translation>
    </message>
    <message>
        <source>Could not move to the trash: %1</source>
        <translation>无法移到回收站：%1</translation>
    </message>
    <message>
        <source>%1 exists again</source>
        <translation>%1 已再次存在</translation>
    </message>
    <message>
        <source>%1 could not be put back from %2</source>
        <translation>无法将 %1 从 %2 恢复</translation>
    </message>
    <message>
        <source>Could not undo: %1</source>
        <translation>无法撤销：%1</translation>
    </message>
    <message numerus="yes">
        <source>Put %n image(s) back.</source>
        <translation>
            <numerusform>已恢复 %n 张图像。</numerusform>
        </translation>
    </message>
    <message>
        <source>Un&amp;star</source>
        <translation>取消星标(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Star</source>
        <translation>加星标(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Gallery</source>
        <translation>图库(&amp;G)</translation>
    </message>
    <message>
        <source>Search prompts</source>
        <translation>搜索提示词</translation>
    </message>
    <message>
        <source>★ Starred</source>
        <translation>★ 已加星标</translation>
    </message>
    <message>
        <source>Show only starred images</source>
        <translation>只显示加星标的图像</translation>
    </message>
    <message>
        <source>Show only one model&apos;s images</source>
        <translation>只显示某个模型的图像</translation>
    </message>
    <message>
        <source>Any time</source>
        <translation>任何时间</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <source>Last 7 days</source>
        <translation>最近 7 天</translation>
    </message>
    <message>
        <source>Last 30 days</source>
        <translation>最近 30 天</translation>
    </message>
    <message>
        <source>Last 12 months</source>
        <translation>最近 12 个月</translation>
    </message>
    <message>
        <source>&amp;Open</source>
        <translation>打开(&amp;O)</translation>
    </message>
    <message>
        <source>Show it full size, with its parameters</source>
        <translation>以原始尺寸显示，并显示其参数</translation>
    </message>
    <message>
        <source>&amp;Copy prompt</source>
        <translation>复制提示词(&amp;C)</translation>
    </message>
    <message>
        <source>Copy the prompt</source>
        <translation>复制提示词</translation>
    </message>
    <message>
        <source>Copy s&amp;eed</source>
        <translation>复制种子(&amp;E)</translation>
    </message>
    <message>
        <source>Copy the seed</source>
        <translation>复制种子</translation>
    </message>
    <message>
        <source>Copy &amp;parameters</source>
        <translation>复制参数(&amp;P)</translation>
    </message>
    <message>
        <source>Copy every generation parameter as AUTOMATIC1111 infotext</source>
        <translation>以 AUTOMATIC1111 infotext 格式复制全部生成参数</translation>
    </message>
    <message>
        <source>&amp;Use these settings</source>
        <translation>使用这些设置(&amp;U)</translation>
    </message>
    <message>
        <source>Fill the editor with its prompt and settings</source>
        <translation>用它的提示词和设置填充编辑器</translation>
    </message>
    <message>
        <source>&amp;Requeue</source>
        <translation>重新排队(&amp;R)</translation>
    </message>
    <message>
        <source>Queue it again, seed and all</source>
        <translation>原样重新排队（包括种子）</translation>
    </message>
    <message>
        <source>Requeue with &amp;new seeds…</source>
        <translation>使用新种子重新排队(&amp;N)…</translation>
    </message>
    <message>
        <source>Queue variations of it with new seeds</source>
        <translation>使用新种子排入它的变体</translation>
    </message>
    <message>
        <source>Open containing &amp;folder</source>
        <translation>打开所在文件夹(&amp;F)</translation>
    </message>
    <message>
        <source>Show its folder in the file manager</source>
        <translation>在文件管理器中显示它所在的文件夹</translation>
    </message>
    <message>
        <source>Move to &amp;trash</source>
        <translation>移到回收站(&amp;T)</translation>
    </message>
    <message>
        <source>Move its file to the trash (it can be undone)</source>
        <translation>将它的文件移到回收站（可撤销）</translation>
    </message>
    <message>
        <source>&amp;Undo move to trash</source>
        <translation>撤销移到回收站(&amp;U)</translation>
    </message>
    <message>
        <source>Put the images last moved to the trash back</source>
        <translation>恢复最近一次移到回收站的图像</translation>
    </message>
    <message>
        <source>Re&amp;scan folders</source>
        <translation>重新扫描文件夹(&amp;S)</translation>
    </message>
    <message>
        <source>Look for new, changed and deleted images again</source>
        <translation>重新查找新增、已更改和已删除的图像</translation>
    </message>
    <message>
        <source>Star it, or unstar it (%1)</source>
        <translation>加星标或取消星标（%1）</translation>
    </message>
</context>
<context>
    <name>Atelier::ImageViewer</name>
    <message>
        <source>Previous</source>
        <translation>上一张</translation>
    </message>
    <message>
        <source>Show the previous image</source>
        <translation>显示上一张图像</translation>
    </message>
    <message>
        <source>Next</source>
        <translation>下一张</translation>
    </message>
    <message>
        <source>Show the next image</source>
        <translation>显示下一张图像</translation>
    </message>
    <message>
        <source>First</source>
        <translation>第一张</translation>
    </message>
    <message>
        <source>Show the first image</source>
        <translation>显示第一张图像</translation>
    </message>
    <message>
        <source>Last</source>
        <translation>最后一张</translation>
    </message>
    <message>
        <source>Show the last image</source>
        <translation>显示最后一张图像</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>适应窗口</translation>
    </message>
    <message>
        <source>Fit the whole image in the window</source>
        <translation>将整张图像缩放到窗口内</translation>
    </message>
    <message>
        <source>100 %</source>
        <translation>100 %</translation>
    </message>
    <message>
        <source>Show the image&apos;s actual pixels</source>
        <translation>按实际像素显示图像</translation>
    </message>
    <message>
        <source>Zoom In</source>
        <translation>放大</translation>
    </message>
    <message>
        <source>Zoom in</source>
        <translation>放大</translation>
    </message>
    <message>
        <source>Zoom Out</source>
        <translation>缩小</translation>
    </message>
    <message>
        <source>Zoom out</source>
        <translation>缩小</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Close the viewer</source>
        <translation>关闭查看器</translation>
    </message>
    <message>
        <source>Prompt:</source>
        <translation>提示词：</translation>
    </message>
    <message>
        <source>Negative prompt:</source>
        <translation>反向提示词：</translation>
    </message>
    <message>
        <source>Seed:</source>
        <translation>种子：</translation>
    </message>
    <message>
        <source>Steps:</source>
        <translation>步数：</translation>
    </message>
    <message>
        <source>CFG scale:</source>
        <translation>CFG 系数：</translation>
    </message>
    <message>
        <source>Sampler:</source>
        <translation>采样器：</translation>
    </message>
    <message>
        <source>Size:</source>
        <translation>尺寸：</translation>
    </message>
    <message>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <source>Device:</source>
        <translation>设备：</translation>
    </message>
    <message>
        <source>Created:</source>
        <translation>创建时间：</translation>
    </message>
    <message>
        <source>File:</source>
        <translation>文件：</translation>
    </message>
    <message>
        <source>&amp;Parameters (infotext):</source>
        <translation>参数（infotext）(&amp;P)：</translation>
    </message>
    <message>
        <source>This image carries no generation parameters.</source>
        <translation>此图像不含生成参数。</translation>
    </message>
    <message>
        <source>Image Viewer</source>
        <translation>图像查看器</translation>
    </message>
    <message>
        <source>%1 – %2 of %3</source>
        <translation>%1 – 第 %2 张，共 %3 张</translation>
    </message>
    <message>
        <source>%1 (file: %2)</source>
        <translation>%1（文件：%2）</translation>
    </message>
    <message>
        <source>%1 (missing)</source>
        <translation>%1（文件缺失）</translation>
    </message>
    <message>
        <source>Model hash: %1</source>
        <translation>模型哈希：%1</translation>
    </message>
    <message>
        <source>Fit (%1 %)</source>
        <translation>适应窗口（%1 %）</translation>
    </message>
    <message>
        <source>%1 %</source>
        <translation>%1 %</translation>
    </message>
    <message>
        <source>%1 is not there: it was moved, renamed or deleted.</source>
        <translation>%1 不存在：它已被移动、重命名或删除。</translation>
    </message>
    <message>
        <source>%1 cannot be shown: %2</source>
        <translation>无法显示 %1：%2</translation>
    </message>
</context>
<context>
    <name>Atelier::LibraryModel</name>
    <message>
        <source>Negative prompt: %1</source>
        <translation>反向提示词：%1</translation>
    </message>
    <message>
        <source>Seed: %1</source>
        <translation>种子：%1</translation>
    </message>
    <message>
        <source>Steps: %1</source>
        <translation>步数：%1</translation>
    </message>
    <message>
        <source>Sampler: %1</source>
        <translation>采样器：%1</translation>
    </message>
    <message>
        <source>CFG scale: %1</source>
        <translation>CFG 系数：%1</translation>
    </message>
    <message>
        <source>Size: %1×%2</source>
        <translation>尺寸：%1×%2</translation>
    </message>
    <message>
        <source>Model: %1</source>
        <translation>模型：%1</translation>
    </message>
    <message>
        <source>%1 (missing)</source>
        <translation>%1（文件缺失）</translation>
    </message>
</context>
<context>
    <name>Atelier::MainWindow</name>
    <message>
        <source>About Atelier</source>
        <translation>关于 Atelier</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Atelier %1&lt;/h3&gt;&lt;p&gt;Queue Stable Diffusion prompts and render them on every GPU at once.&lt;/p&gt;&lt;pre&gt;%2&lt;/pre&gt;</source>
        <translation>&lt;h3&gt;Atelier %1&lt;/h3&gt;&lt;p&gt;排队 Stable Diffusion 提示词，并在所有 GPU 上同时生成图像。&lt;/p&gt;&lt;pre&gt;%2&lt;/pre&gt;</translation>
    </message>
    <message>
        <source>Atelier</source>
        <translation>Atelier</translation>
    </message>
    <message>
        <source>&amp;Prompt</source>
        <translation>提示词(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Negative prompt</source>
        <translation>反向提示词(&amp;N)</translation>
    </message>
    <message>
        <source>Describe the image, e.g. a lighthouse at dusk, oil painting</source>
        <translation>描述图像，例如：黄昏时的灯塔，油画</translation>
    </message>
    <message>
        <source>What to avoid, e.g. blurry, low quality</source>
        <translation>需要避免的内容，例如：模糊，低质量</translation>
    </message>
    <message>
        <source>&amp;Add to queue</source>
        <translation>加入队列(&amp;A)</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>队列</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;About Atelier</source>
        <translation>关于 Atelier(&amp;A)</translation>
    </message>
    <message numerus="yes">
        <source>Imported %n prompt(s)</source>
        <translation>
            <numerusform>已导入 %n 个提示词</numerusform>
        </translation>
    </message>
    <message>
        <source>Import problems</source>
        <translation>导入问题</translation>
    </message>
    <message numerus="yes">
        <source>%n line(s) could not be imported; the rest were queued.</source>
        <translation>
            <numerusform>%n 行无法导入；其余已加入队列。</numerusform>
        </translation>
    </message>
    <message>
        <source>Import prompts</source>
        <translation>导入提示词</translation>
    </message>
    <message>
        <source>Prompt files (*.txt *.csv *.json *.jsonl);;All files (*)</source>
        <translation>提示词文件 (*.txt *.csv *.json *.jsonl);;所有文件 (*)</translation>
    </message>
    <message>
        <source>&amp;Import prompts…</source>
        <translation>导入提示词(&amp;I)…</translation>
    </message>
    <message>
        <source>Cannot create the output folder %1</source>
        <translation>无法创建输出文件夹 %1</translation>
    </message>
    <message>
        <source>Cannot start rendering: %1</source>
        <translation>无法开始生成：%1</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message>
        <source>Choose a model</source>
        <translation>选择模型</translation>
    </message>
    <message>
        <source>Stable Diffusion 1.x checkpoints (*.safetensors)</source>
        <translation>Stable Diffusion 1.x 检查点 (*.safetensors)</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <source>&amp;Gallery</source>
        <translation>图库(&amp;G)</translation>
    </message>
    <message>
        <source>Render settings</source>
        <translation>生成设置</translation>
    </message>
    <message>
        <source>&amp;Steps</source>
        <translation>步数(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;CFG scale</source>
        <translation>CFG 系数(&amp;C)</translation>
    </message>
    <message>
        <source>Si&amp;ze</source>
        <translation>尺寸(&amp;Z)</translation>
    </message>
    <message>
        <source>Sa&amp;mpler</source>
        <translation>采样器(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Devices</source>
        <translation>设备(&amp;D)</translation>
    </message>
    <message>
        <source>M&amp;odel</source>
        <translation>模型(&amp;O)</translation>
    </message>
    <message>
        <source>O&amp;utput</source>
        <translation>输出(&amp;U)</translation>
    </message>
    <message>
        <source>Built-in test model (abstract noise)</source>
        <translation>内置测试模型（抽象噪声）</translation>
    </message>
    <message>
        <source>A Stable Diffusion 1.x .safetensors checkpoint or diffusers folder</source>
        <translation>Stable Diffusion 1.x 的 .safetensors 检查点或 diffusers 文件夹</translation>
    </message>
    <message>
        <source>Choose the output folder</source>
        <translation>选择输出文件夹</translation>
    </message>
    <message>
        <source>Model default</source>
        <translation>模型默认</translation>
    </message>
    <message>
        <source>S&amp;top</source>
        <translation>停止(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Render</source>
        <translation>生成(&amp;R)</translation>
    </message>
    <message>
        <source>Render the queue on the checked devices</source>
        <translation>在选中的设备上生成队列中的图像</translation>
    </message>
    <message>
        <source>Rendering stopped</source>
        <translation>生成已停止</translation>
    </message>
    <message>
        <source>No device could go on rendering; the prompts that were not finished are back in the queue. Check the model and the devices, then press Render again.</source>
        <translation>没有设备能继续生成；未完成的提示词已回到队列。请检查模型和设备，然后再次点击“生成”。</translation>
    </message>
    <message>
        <source>The queue could not be saved: %1</source>
        <translation>无法保存队列：%1</translation>
    </message>
    <message numerus="yes">
        <source>Queued %n image(s) first</source>
        <translation>
            <numerusform>已将 %n 张图像排到最前</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Queued %n image(s)</source>
        <translation>
            <numerusform>已排队 %n 张图像</numerusform>
        </translation>
    </message>
    <message>
        <source>Only a waiting item can be edited.</source>
        <translation>只能编辑等待中的项目。</translation>
    </message>
    <message>
        <source>Editing: %1</source>
        <translation>正在编辑：%1</translation>
    </message>
    <message>
        <source>The item started before the changes were saved; it renders as it was. Your changes are still in the editor.</source>
        <translation>保存修改之前该项目已开始渲染，将按原设置渲染。你的修改仍保留在编辑器中。</translation>
    </message>
    <message>
        <source>Changes saved</source>
        <translation>修改已保存</translation>
    </message>
    <message>
        <source>canceled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Check at least one device to render on.</source>
        <translation>请至少勾选一个用于渲染的设备。</translation>
    </message>
    <message>
        <source>Cannot use %1: %2</source>
        <translation>无法使用 %1：%2</translation>
    </message>
    <message>
        <source>%1 of %2 images</source>
        <translation>%1 / %2 张图像</translation>
    </message>
    <message>
        <source>%1 it/s</source>
        <translation>%1 it/s</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>剩余 %1</translation>
    </message>
    <message numerus="yes">
        <source>%n item(s) waiting</source>
        <translation>
            <numerusform>%n 项等待中</numerusform>
        </translation>
    </message>
    <message>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>The settings of what you add next; the queue keeps each item&apos;s own</source>
        <translation>接下来添加的项目所用的设置；队列中的每个项目保留各自的设置</translation>
    </message>
    <message>
        <source>S&amp;eed</source>
        <translation>种子(&amp;E)</translation>
    </message>
    <message>
        <source>R&amp;andom</source>
        <translation>随机(&amp;A)</translation>
    </message>
    <message>
        <source>a whole number</source>
        <translation>一个整数</translation>
    </message>
    <message>
        <source>&amp;Images</source>
        <translation>图像数(&amp;I)</translation>
    </message>
    <message>
        <source>Images per prompt, with seeds s, s + 1, …</source>
        <translation>每个提示词的图像数，种子依次为 s、s + 1、…</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Add &amp;first</source>
        <translation>加到最前(&amp;F)</translation>
    </message>
    <message>
        <source>Queue this prompt</source>
        <translation>将此提示词加入队列</translation>
    </message>
    <message>
        <source>Queue this prompt before everything that waits</source>
        <translation>将此提示词排在所有等待项目之前</translation>
    </message>
    <message>
        <source>&amp;Save changes</source>
        <translation>保存修改(&amp;S)</translation>
    </message>
    <message>
        <source>Write the editor into the queued item</source>
        <translation>将编辑器内容写入该排队项目</translation>
    </message>
    <message>
        <source>Cancel &amp;editing</source>
        <translation>取消编辑(&amp;E)</translation>
    </message>
    <message>
        <source>Stop rendering; running items wait again</source>
        <translation>停止渲染；正在渲染的项目重新等待</translation>
    </message>
    <message>
        <source>Res&amp;ume</source>
        <translation>继续(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>暂停(&amp;P)</translation>
    </message>
    <message>
        <source>Start waiting items again</source>
        <translation>重新开始处理等待中的项目</translation>
    </message>
    <message>
        <source>Let running items finish and start nothing new</source>
        <translation>让正在渲染的项目完成，不再开始新项目</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>Load the item into the editor</source>
        <translation>将该项目载入编辑器</translation>
    </message>
    <message>
        <source>D&amp;uplicate</source>
        <translation>复制(&amp;U)</translation>
    </message>
    <message>
        <source>Queue a copy right after it</source>
        <translation>在其后排入一个副本</translation>
    </message>
    <message>
        <source>Move to &amp;top</source>
        <translation>移到顶部(&amp;T)</translation>
    </message>
    <message>
        <source>Render it next</source>
        <translation>下一个渲染它</translation>
    </message>
    <message>
        <source>Move to &amp;bottom</source>
        <translation>移到底部(&amp;B)</translation>
    </message>
    <message>
        <source>Render it last</source>
        <translation>最后渲染它</translation>
    </message>
    <message>
        <source>Re&amp;try</source>
        <translation>重试(&amp;T)</translation>
    </message>
    <message>
        <source>Queue a failed or canceled item again</source>
        <translation>重新排入失败或已取消的项目</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>取消(&amp;C)</translation>
    </message>
    <message>
        <source>Do not render it; a running one stops</source>
        <translation>不渲染它；正在渲染的会停止</translation>
    </message>
    <message>
        <source>Re&amp;move</source>
        <translation>移除(&amp;M)</translation>
    </message>
    <message>
        <source>Remove it from the queue</source>
        <translation>将其从队列中移除</translation>
    </message>
    <message>
        <source>C&amp;lear finished</source>
        <translation>清除已完成(&amp;L)</translation>
    </message>
    <message>
        <source>Remove every finished item from the queue</source>
        <translation>从队列中移除所有已完成的项目</translation>
    </message>
    <message>
        <source>&amp;Queue</source>
        <translation>队列(&amp;Q)</translation>
    </message>
    <message>
        <source>the clipboard</source>
        <translation>剪贴板</translation>
    </message>
    <message>
        <source>%1 holds no generation parameters: %2</source>
        <translation>%1 不含生成参数：%2</translation>
    </message>
    <message>
        <source> (not used: %1)</source>
        <translation>（未使用：%1）</translation>
    </message>
    <message>
        <source>Queued the parameters of %1</source>
        <translation>已按 %1 的参数排队</translation>
    </message>
    <message>
        <source>The editor has the parameters of %1</source>
        <translation>编辑器已载入 %1 的参数</translation>
    </message>
    <message>
        <source>%1 holds no generation parameters</source>
        <translation>%1 不含生成参数</translation>
    </message>
    <message>
        <source>the dropped text</source>
        <translation>拖入的文本</translation>
    </message>
    <message>
        <source>&amp;Paste parameters</source>
        <translation>粘贴参数(&amp;P)</translation>
    </message>
    <message>
        <source>Fill the editor from generation parameters (A1111 infotext) on the clipboard</source>
        <translation>用剪贴板中的生成参数（A1111 infotext）填充编辑器</translation>
    </message>
    <message>
        <source>Atelier: queue done</source>
        <translation>Atelier：队列已完成</translation>
    </message>
    <message numerus="yes">
        <source>Every queued image is made (%n this run).</source>
        <translation>
            <numerusform>队列中的图像已全部生成（本次运行 %n 张）。</numerusform>
        </translation>
    </message>
    <message>
        <source>Atelier: a device stopped</source>
        <translation>Atelier：一个设备已停止</translation>
    </message>
    <message>
        <source>%1 was disabled: %2</source>
        <translation>%1 已停用：%2</translation>
    </message>
    <message>
        <source>The editor has the image&apos;s prompt and settings.</source>
        <translation>编辑器已载入该图像的提示词和设置。</translation>
    </message>
    <message numerus="yes">
        <source>Queued %n image(s) again.</source>
        <translation>
            <numerusform>已重新排队 %n 张图像。</numerusform>
        </translation>
    </message>
    <message>
        <source>Add a folder to the gallery</source>
        <translation>向图库添加文件夹</translation>
    </message>
    <message>
        <source>CPU, worker %1</source>
        <translation>CPU，工作进程 %1</translation>
    </message>
    <message>
        <source>Some settings were not usable: %1</source>
        <translation>部分设置无法使用：%1</translation>
    </message>
    <message>
        <source>Settings saved.</source>
        <translation>设置已保存。</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>设置(&amp;S)…</translation>
    </message>
    <message>
        <source>Models, output folder and names, defaults, workers, theme</source>
        <translation>模型、输出文件夹与文件名、默认值、工作进程、主题</translation>
    </message>
    <message>
        <source>&amp;Add a folder…</source>
        <translation>添加文件夹(&amp;A)…</translation>
    </message>
    <message>
        <source>Show the images of another folder in the gallery too</source>
        <translation>在图库中同时显示另一个文件夹中的图像</translation>
    </message>
    <message>
        <source>Clip s&amp;kip</source>
        <translation>CLIP 跳过层数(&amp;K)</translation>
    </message>
    <message>
        <source>AUTOMATIC1111&apos;s Clip skip: 1 uses CLIP&apos;s last layer, 2 the one before (what many anime-style models expect)</source>
        <translation>AUTOMATIC1111 的 Clip skip：1 使用 CLIP 的最后一层，2 使用倒数第二层（许多动漫风格模型需要）</translation>
    </message>
    <message>
        <source>Choose an init image</source>
        <translation>选择初始图像</translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.webp *.bmp)</source>
        <translation>图像 (*.png *.jpg *.jpeg *.webp *.bmp)</translation>
    </message>
    <message>
        <source>Choose a VAE</source>
        <translation>选择 VAE</translation>
    </message>
    <message>
        <source>VAE files (*.safetensors)</source>
        <translation>VAE 文件 (*.safetensors)</translation>
    </message>
    <message>
        <source>I&amp;nit image</source>
        <translation>初始图像(&amp;N)</translation>
    </message>
    <message>
        <source>None: text to image</source>
        <translation>无：文生图</translation>
    </message>
    <message>
        <source>Image to image: start from this picture, resized to the size above</source>
        <translation>图生图：从这张图片开始，缩放到上面的尺寸</translation>
    </message>
    <message>
        <source>&amp;Hires fix</source>
        <translation>高清修复(&amp;H)</translation>
    </message>
    <message>
        <source>Render at the size above, then again larger (text to image only)</source>
        <translation>先按上面的尺寸渲染，再放大渲染一遍（仅限文生图）</translation>
    </message>
    <message>
        <source>How many times larger the second pass renders</source>
        <translation>第二遍渲染放大的倍数</translation>
    </message>
    <message>
        <source>Latent enlarges the latents; Lanczos the decoded image</source>
        <translation>Latent 放大潜变量；Lanczos 放大解码后的图像</translation>
    </message>
    <message>
        <source>same steps</source>
        <translation>相同步数</translation>
    </message>
    <message>
        <source> steps</source>
        <translation> 步</translation>
    </message>
    <message>
        <source>Steps of the second pass</source>
        <translation>第二遍的步数</translation>
    </message>
    <message>
        <source>&amp;Denoising</source>
        <translation>重绘幅度(&amp;D)</translation>
    </message>
    <message>
        <source>Denoising strength of image to image or of the hires fix: how much of the picture is redrawn</source>
        <translation>图生图或高清修复的重绘幅度：图片被重新绘制的程度</translation>
    </message>
    <message>
        <source>&amp;VAE</source>
        <translation>&amp;VAE</translation>
    </message>
    <message>
        <source>The model&apos;s own</source>
        <translation>模型自带</translation>
    </message>
    <message>
        <source>A VAE from the VAE folders (AUTOMATIC1111&apos;s models/VAE, ComfyUI&apos;s models/vae)</source>
        <translation>VAE 文件夹中的 VAE（AUTOMATIC1111 的 models/VAE、ComfyUI 的 models/vae）</translation>
    </message>
    <message>
        <source>Choose a VAE file</source>
        <translation>选择 VAE 文件</translation>
    </message>
</context>
<context>
    <name>Atelier::QueueModel</name>
    <message>
        <source>steps %1</source>
        <translation>步数 %1</translation>
    </message>
    <message>
        <source>CFG %1</source>
        <translation>CFG %1</translation>
    </message>
    <message>
        <source>seed %1</source>
        <translation>种子 %1</translation>
    </message>
    <message>
        <source>default settings</source>
        <translation>默认设置</translation>
    </message>
    <message>
        <source>queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <source>waiting for a retry: %1</source>
        <translation>等待重试：%1</translation>
    </message>
    <message>
        <source>running on %1, step %2/%3</source>
        <translation>在 %1 上渲染，第 %2/%3 步</translation>
    </message>
    <message>
        <source>starting</source>
        <translation>正在启动</translation>
    </message>
    <message>
        <source>starting on %1</source>
        <translation>正在 %1 上启动</translation>
    </message>
    <message>
        <source>done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>failed: %1</source>
        <translation>失败：%1</translation>
    </message>
    <message>
        <source>canceled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>%1
Negative: %2</source>
        <translation>%1
反向：%2</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation>尝试次数</translation>
    </message>
    <message>
        <source>clip skip %1</source>
        <translation>CLIP 跳过 %1</translation>
    </message>
    <message>
        <source>from %1</source>
        <translation>基于 %1</translation>
    </message>
    <message>
        <source>hires ×%1</source>
        <translation>高清修复 ×%1</translation>
    </message>
    <message>
        <source>denoising %1</source>
        <translation>重绘幅度 %1</translation>
    </message>
    <message>
        <source>VAE %1</source>
        <translation>VAE %1</translation>
    </message>
</context>
<context>
    <name>Atelier::SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>&amp;Models</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Output</source>
        <translation>输出(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Defaults</source>
        <translation>默认值(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Workers</source>
        <translation>工作进程(&amp;W)</translation>
    </message>
    <message>
        <source>&amp;Appearance</source>
        <translation>外观(&amp;A)</translation>
    </message>
    <message>
        <source>Default mode&amp;l:</source>
        <translation>默认模型(&amp;L)：</translation>
    </message>
    <message>
        <source>The built-in tiny model</source>
        <translation>内置的微型模型</translation>
    </message>
    <message>
        <source>A .safetensors checkpoint or a diffusers folder; pick one below and press &quot;Use as default&quot;, or double-click it</source>
        <translation>一个 .safetensors 检查点或 diffusers 文件夹；在下方选择一个后点击“设为默认”，或双击它</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>浏览(&amp;B)…</translation>
    </message>
    <message>
        <source>Choose a model</source>
        <translation>选择模型</translation>
    </message>
    <message>
        <source>Safetensors checkpoints (*.safetensors)</source>
        <translation>Safetensors 检查点 (*.safetensors)</translation>
    </message>
    <message>
        <source>Mod&amp;els found:</source>
        <translation>找到的模型(&amp;E)：</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>问题</translation>
    </message>
    <message>
        <source>&amp;Use as default</source>
        <translation>设为默认(&amp;U)</translation>
    </message>
    <message>
        <source>Re&amp;scan</source>
        <translation>重新扫描(&amp;S)</translation>
    </message>
    <message>
        <source>Folders to searc&amp;h (and the Hugging Face cache, %1):</source>
        <translation>要搜索的文件夹（以及 Hugging Face 缓存 %1）(&amp;H)：</translation>
    </message>
    <message>
        <source>Folder</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <source>Add &amp;folder…</source>
        <translation>添加文件夹(&amp;F)…</translation>
    </message>
    <message>
        <source>A folder with diffusers models or .safetensors checkpoints, searched with its subfolders</source>
        <translation>包含 diffusers 模型或 .safetensors 检查点的文件夹，连同其子文件夹一起搜索</translation>
    </message>
    <message>
        <source>Add AUTOMATIC&amp;1111 folder…</source>
        <translation>添加 AUTOMATIC1111 文件夹(&amp;1)…</translation>
    </message>
    <message>
        <source>The stable-diffusion-webui folder, or its models/Stable-diffusion folder</source>
        <translation>stable-diffusion-webui 文件夹，或其中的 models/Stable-diffusion 文件夹</translation>
    </message>
    <message>
        <source>Add &amp;ComfyUI folder…</source>
        <translation>添加 ComfyUI 文件夹(&amp;C)…</translation>
    </message>
    <message>
        <source>The ComfyUI folder, or its models/checkpoints folder</source>
        <translation>ComfyUI 文件夹，或其中的 models/checkpoints 文件夹</translation>
    </message>
    <message>
        <source>&amp;Remove folder</source>
        <translation>移除文件夹(&amp;R)</translation>
    </message>
    <message>
        <source>B&amp;rowse…</source>
        <translation>浏览(&amp;R)…</translation>
    </message>
    <message>
        <source>Choose the output folder</source>
        <translation>选择输出文件夹</translation>
    </message>
    <message>
        <source>R&amp;eset</source>
        <translation>重置(&amp;E)</translation>
    </message>
    <message>
        <source>Back to %1</source>
        <translation>恢复为 %1</translation>
    </message>
    <message>
        <source>Every name starts with a running number (00012-), so no image is ever replaced. Tokens, as AUTOMATIC1111 names them: %1. [prompt_words] is the prompt&apos;s first words, [time] is hours-minutes-seconds, [item] the queue item&apos;s number.</source>
        <translation>每个文件名都以流水号（00012-）开头，因此不会覆盖任何图像。可用标记（沿用 AUTOMATIC1111 的名称）：%1。[prompt_words] 是提示词的前几个词，[time] 是时-分-秒，[item] 是队列项目的编号。</translation>
    </message>
    <message>
        <source>Output fo&amp;lder:</source>
        <translation>输出文件夹(&amp;L)：</translation>
    </message>
    <message>
        <source>&amp;Naming pattern:</source>
        <translation>命名模式(&amp;N)：</translation>
    </message>
    <message>
        <source>Model default</source>
        <translation>模型默认</translation>
    </message>
    <message>
        <source>What the images should not show, for prompts that do not say</source>
        <translation>图像中不应出现的内容，用于未自行指定的提示词</translation>
    </message>
    <message>
        <source>S&amp;teps:</source>
        <translation>步数(&amp;T)：</translation>
    </message>
    <message>
        <source>&amp;CFG scale:</source>
        <translation>CFG 系数(&amp;C)：</translation>
    </message>
    <message>
        <source>S&amp;ize:</source>
        <translation>尺寸(&amp;I)：</translation>
    </message>
    <message>
        <source>Sam&amp;pler:</source>
        <translation>采样器(&amp;P)：</translation>
    </message>
    <message>
        <source>&amp;Negative prompt:</source>
        <translation>反向提示词(&amp;N)：</translation>
    </message>
    <message>
        <source>Images per p&amp;rompt:</source>
        <translation>每个提示词的图像数(&amp;R)：</translation>
    </message>
    <message>
        <source>New prompts start with these values; prompts already queued keep theirs.</source>
        <translation>新提示词以这些值为初始设置；已排队的提示词保留各自的设置。</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>&amp;Batch size:</source>
        <translation>批大小(&amp;B)：</translation>
    </message>
    <message>
        <source>Most images a worker renders at once. Automatic: as many as the device&apos;s free memory holds. A smaller number leaves memory for other programs.</source>
        <translation>一个工作进程一次最多渲染的图像数。自动：设备空闲内存能容纳多少就渲染多少。数值越小，留给其他程序的内存越多。</translation>
    </message>
    <message>
        <source>&amp;CPU workers:</source>
        <translation>CPU 工作进程(&amp;C)：</translation>
    </message>
    <message>
        <source>Worker processes on the CPU, each with its share of the cores; each is a row of the device board. Takes effect when the window starts again.</source>
        <translation>在 CPU 上运行的工作进程，各自分得一部分核心；每个进程在设备面板中占一行。窗口重新启动后生效。</translation>
    </message>
    <message>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>&amp;Theme:</source>
        <translation>主题(&amp;T)：</translation>
    </message>
    <message>
        <source>Added folder</source>
        <translation>添加的文件夹</translation>
    </message>
    <message>
        <source>Looking for models…</source>
        <translation>正在查找模型…</translation>
    </message>
    <message>
        <source>Hugging Face cache</source>
        <translation>Hugging Face 缓存</translation>
    </message>
    <message>
        <source>Diffusers folder</source>
        <translation>Diffusers 文件夹</translation>
    </message>
    <message>
        <source>Single file</source>
        <translation>单个文件</translation>
    </message>
    <message>
        <source>No models found.</source>
        <translation>未找到模型。</translation>
    </message>
    <message numerus="yes">
        <source>%n model(s) found</source>
        <translation>
            <numerusform>找到 %n 个模型</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>, %n of them cannot be used (see Problem)</source>
        <translation>
            <numerusform>，其中 %n 个无法使用（见“问题”列）</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n place(s) skipped (hover for details)</source>
        <translation>
            <numerusform>跳过了 %n 处位置（悬停查看详情）</numerusform>
        </translation>
    </message>
    <message>
        <source>Add a folder with models</source>
        <translation>添加包含模型的文件夹</translation>
    </message>
    <message>
        <source>Add an AUTOMATIC1111 (stable-diffusion-webui) folder</source>
        <translation>添加 AUTOMATIC1111（stable-diffusion-webui）文件夹</translation>
    </message>
    <message>
        <source>Add a ComfyUI folder</source>
        <translation>添加 ComfyUI 文件夹</translation>
    </message>
    <message>
        <source>Example: %1</source>
        <translation>示例：%1</translation>
    </message>
    <message>
        <source>&amp;LoRAs and VAEs</source>
        <translation>&amp;LoRA 与 VAE</translation>
    </message>
    <message>
        <source>Prompts name LoRAs (&lt;lora:NAME:WEIGHT&gt;) and embeddings by file name, and an item may name a VAE; they are looked for in these folders and their subfolders, first to last.</source>
        <translation>提示词按文件名引用 LoRA（&lt;lora:名称:权重&gt;）和嵌入，队列项可以指定 VAE；Atelier 按从上到下的顺序在这些文件夹及其子文件夹中查找。</translation>
    </message>
    <message>
        <source>Lo&amp;RA folders</source>
        <translation>Lo&amp;RA 文件夹</translation>
    </message>
    <message>
        <source>Then %1, and models/Lora of each AUTOMATIC1111 folder and models/loras of each ComfyUI folder on the Models page.</source>
        <translation>然后是 %1，以及“模型”页上每个 AUTOMATIC1111 文件夹的 models/Lora 和每个 ComfyUI 文件夹的 models/loras。</translation>
    </message>
    <message>
        <source>&amp;Embedding folders</source>
        <translation>嵌入文件夹(&amp;E)</translation>
    </message>
    <message>
        <source>Then %1, and embeddings of each AUTOMATIC1111 folder and models/embeddings of each ComfyUI folder on the Models page.</source>
        <translation>然后是 %1，以及“模型”页上每个 AUTOMATIC1111 文件夹的 embeddings 和每个 ComfyUI 文件夹的 models/embeddings。</translation>
    </message>
    <message>
        <source>&amp;VAE folders</source>
        <translation>&amp;VAE 文件夹</translation>
    </message>
    <message>
        <source>Then %1, and models/VAE of each AUTOMATIC1111 folder and models/vae of each ComfyUI folder on the Models page.</source>
        <translation>然后是 %1，以及“模型”页上每个 AUTOMATIC1111 文件夹的 models/VAE 和每个 ComfyUI 文件夹的 models/vae。</translation>
    </message>
    <message>
        <source>Add…</source>
        <translation>添加…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>The queue cannot be kept on disk: %1</source>
        <translation>无法将队列保存到磁盘：%1</translation>
    </message>
    <message>
        <source>The image library cannot be opened: %1</source>
        <translation>无法打开图像库：%1</translation>
    </message>
</context>
</TS>
